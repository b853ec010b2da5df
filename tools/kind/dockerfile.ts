// A Dockerfile read into its stages and instructions, enough to check it and to emulate its build
// (image-build.ts): line continuations, comments and parser directives, global ARGs expanded in
// FROM, exec-form (JSON) arguments. It refuses what it does not understand instead of guessing.

export interface Instruction {
  /** Upper-cased: FROM, RUN, COPY, … */
  keyword: string;
  /** The rest of the instruction, continuations joined. */
  args: string;
  /** 1-based line where the instruction starts. */
  line: number;
}

export interface Stage {
  /** `AS name`, if any. */
  name: string | undefined;
  /** The FROM image with global ARGs expanded: an image reference or an earlier stage's name. */
  from: string;
  /** The FROM image as written. */
  fromRaw: string;
  line: number;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** ARGs before the first FROM, with their defaults. */
  globalArgs: Map<string, string | undefined>;
  stages: Stage[];
}

export function parseDockerfile(text: string): Dockerfile {
  const instructions = splitInstructions(text);
  const globalArgs = new Map<string, string | undefined>();
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (m === null) throw new Error(`Dockerfile line ${ins.line}: cannot read FROM "${ins.args}"`);
      const fromRaw = m[1] ?? '';
      stages.push({ name: m[2], fromRaw, from: expand(fromRaw, globalArgs, ins.line), line: ins.line, instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword !== 'ARG') throw new Error(`Dockerfile line ${ins.line}: only ARG may come before the first FROM, not ${ins.keyword}`);
      const [name, value] = splitArg(ins.args);
      globalArgs.set(name, value);
    } else {
      stages.at(-1)?.instructions.push(ins);
    }
  }
  if (stages.length === 0) throw new Error('Dockerfile has no FROM');
  return { globalArgs, stages };
}

function splitInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending: { parts: string[]; line: number } | undefined;
  text.split('\n').forEach((raw, i) => {
    const trimmed = raw.trim();
    // Comments (and parser directives, which look like comments) and blank lines may sit inside
    // a continuation without ending it.
    if (trimmed.startsWith('#') || trimmed === '') return;
    const continues = trimmed.endsWith('\\');
    const part = continues ? trimmed.slice(0, -1).trim() : trimmed;
    pending ??= { parts: [], line: i + 1 };
    if (part !== '') pending.parts.push(part);
    if (continues) return;
    const whole = pending.parts.join(' ');
    const m = /^(\S+)\s*(.*)$/.exec(whole);
    if (m !== null) out.push({ keyword: (m[1] ?? '').toUpperCase(), args: m[2] ?? '', line: pending.line });
    pending = undefined;
  });
  if (pending !== undefined) throw new Error(`Dockerfile line ${pending.line}: the last instruction ends with a continuation`);
  return out;
}

/** `NAME` or `NAME=default`. */
export function splitArg(args: string): [string, string | undefined] {
  const eq = args.indexOf('=');
  return eq < 0 ? [args.trim(), undefined] : [args.slice(0, eq).trim(), args.slice(eq + 1).trim()];
}

/** `$NAME` and `${NAME}` from `vars`; an unknown or valueless one is an error naming it. */
export function expand(text: string, vars: ReadonlyMap<string, string | undefined>, line: number): string {
  return text.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    const value = vars.get(name);
    if (value === undefined) throw new Error(`Dockerfile line ${line}: $${name} has no value (an ARG before FROM with a default)`);
    return value;
  });
}

/** Exec-form arguments (`["a", "b"]`), or undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.trimStart().startsWith('[')) return undefined;
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) throw new Error(`not a JSON array of strings: ${args}`);
  return parsed;
}

/** `--name=value` flags at the start of COPY's arguments, and the paths after them. */
export function copyArgs(args: string, line: number): { flags: Map<string, string>; sources: string[]; dest: string } {
  const words = execForm(args) ?? args.split(/\s+/).filter((w) => w !== '');
  const flags = new Map<string, string>();
  while (words[0]?.startsWith('--') === true) {
    const flag = words.shift() ?? '';
    const eq = flag.indexOf('=');
    if (eq < 0) throw new Error(`Dockerfile line ${line}: COPY flag ${flag} has no value`);
    flags.set(flag.slice(2, eq), flag.slice(eq + 1));
  }
  const dest = words.pop();
  if (dest === undefined || words.length === 0) throw new Error(`Dockerfile line ${line}: COPY needs a source and a destination`);
  return { flags, sources: words, dest };
}

/** The final stage: what `docker build` makes without --target. */
export function finalStage(file: Dockerfile): Stage {
  const last = file.stages.at(-1);
  if (last === undefined) throw new Error('Dockerfile has no FROM');
  return last;
}
