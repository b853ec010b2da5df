// Command-line parsing for `kubectl zcsp`. Not util.parseArgs: kubectl users write booleans as
// `--wait` and `--wait=false` alike, which parseArgs' boolean options refuse.

import { UsageError } from '../cli/command.ts';

/** A mistake on the command line (exit code 2): the CLI's own, shared by every zcsp command. */
export { UsageError };

export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  /** One letter: `-n acme`. */
  readonly short?: string;
  /** How the value is shown in the usage text: `--timeout DURATION`. */
  readonly value?: string;
  readonly help: string;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

/** The flags given, by long name; the last one wins when a flag is repeated. */
export class Flags {
  readonly #values: ReadonlyMap<string, string | boolean>;
  constructor(values: ReadonlyMap<string, string | boolean>) {
    this.#values = values;
  }

  names(): string[] {
    return [...this.#values.keys()];
  }

  has(name: string): boolean {
    return this.#values.has(name);
  }

  string(name: string): string | undefined {
    const v = this.#values.get(name);
    return typeof v === 'string' ? v : undefined;
  }

  boolean(name: string, fallback: boolean): boolean {
    const v = this.#values.get(name);
    return typeof v === 'boolean' ? v : fallback;
  }
}

export interface ParsedArgs {
  positionals: string[];
  flags: Flags;
}

function booleanValue(flag: string, text: string): boolean {
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new UsageError(`${flag}: "${text}" is not true or false`);
}

/**
 * Splits argv into positionals and flags: `--name value`, `--name=value`, `-n value`, `-nvalue`,
 * `--bool`, `--bool=false`; `--` ends the flags (for a tag that starts with a dash).
 */
export function parseArgs(argv: readonly string[], specs: FlagSpecs): ParsedArgs {
  const byShort = new Map(Object.entries(specs).flatMap(([name, s]) => (s.short === undefined ? [] : [[s.short, name] as const])));
  const positionals: string[] = [];
  const values = new Map<string, string | boolean>();
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] ?? '';
    if (token === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!token.startsWith('-') || token === '-') {
      positionals.push(token);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    let shown: string;
    if (token.startsWith('--')) {
      const eq = token.indexOf('=');
      name = eq < 0 ? token.slice(2) : token.slice(2, eq);
      inline = eq < 0 ? undefined : token.slice(eq + 1);
      shown = `--${name}`;
      if (specs[name] === undefined) throw new UsageError(`unknown flag ${shown}`);
    } else {
      const letter = token.slice(1, 2);
      shown = `-${letter}`;
      const long = byShort.get(letter);
      if (long === undefined) throw new UsageError(`unknown flag ${shown}`);
      name = long;
      const rest = token.slice(2);
      inline = rest === '' ? undefined : rest.startsWith('=') ? rest.slice(1) : rest;
    }
    const spec = specs[name];
    if (spec === undefined) throw new UsageError(`unknown flag ${shown}`);
    if (spec.type === 'boolean') {
      values.set(name, inline === undefined ? true : booleanValue(shown, inline));
      continue;
    }
    if (inline === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('-') && next !== '-')) throw new UsageError(`flag ${shown} needs a value`);
      inline = next;
      i++;
    }
    values.set(name, inline);
  }
  return { positionals, flags: new Flags(values) };
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration as kubectl writes it (Go's time.ParseDuration): 90s, 30m, 1h30m, 1.5h, 500ms. */
export function parseDuration(flag: string, text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw new UsageError(`${flag}: "${text}" is not a duration (e.g. 90s, 30m, 1h30m)`);
  }
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * (UNIT_MS[p[2] ?? ''] ?? 0), 0);
  if (ms <= 0) throw new UsageError(`${flag}: the duration must be more than zero`);
  return ms;
}
