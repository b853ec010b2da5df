// The image's file tree without Docker: each stage of the Dockerfile gets a folder standing for
// its root filesystem; COPY takes files from the build context as .dockerignore filters it (or from
// an earlier stage), and the RUN commands it knows are done to the folder. The base image is not
// there: its Node is the host's Node of the same version. A RUN it does not know is an error, so
// the emulation never silently drifts from the Dockerfile.
import { chmod, cp, lstat, mkdir, readdir, rm, symlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { copyArgs, execForm, splitArg, type Dockerfile, type Instruction } from './dockerfile.ts';
import { isIgnored, prunable, type IgnoreRule } from './dockerignore.ts';

export interface BuiltImage {
  /** The final stage's root filesystem. */
  rootfs: string;
  /** The final stage's FROM, ARGs expanded. */
  base: string;
  workdir: string;
  env: Record<string, string>;
  /** USER as written, if any. */
  user: string | undefined;
  entrypoint: string[] | undefined;
  /** Users and groups the RUN commands add: id → name. */
  users: Map<number, { name: string; gid: number }>;
  groups: Map<number, string>;
  /** Context files (relative paths) the COPY lines of every stage took. */
  copiedFromContext: Set<string>;
}

export interface BuildOptions {
  dockerfile: Dockerfile;
  context: string;
  ignore: readonly IgnoreRule[];
  /** An empty folder: each stage's root filesystem is made in it. */
  into: string;
  /** Does `npm ci <args>` in `cwd` (the stage's WORKDIR). */
  npmCi: (cwd: string, args: readonly string[]) => Promise<void>;
}

/** Every file of the build context after .dockerignore, relative and `/`-separated. */
export async function contextFiles(context: string, ignore: readonly IgnoreRule[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await readdir(join(context, rel), { withFileTypes: true })) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!prunable(ignore, path)) await walk(path);
      } else if (!isIgnored(ignore, path)) {
        out.push(path);
      }
    }
  };
  await walk('');
  return out.sort();
}

interface StageState {
  name: string | undefined;
  rootfs: string;
  base: string;
  workdir: string;
  env: Record<string, string>;
  user: string | undefined;
  entrypoint: string[] | undefined;
}

export async function emulateBuild(options: BuildOptions): Promise<BuiltImage> {
  const context = await contextFiles(options.context, options.ignore);
  const copied = new Set<string>();
  const users = new Map<number, { name: string; gid: number }>();
  const groups = new Map<number, string>();
  const stages: StageState[] = [];
  for (const [i, stage] of options.dockerfile.stages.entries()) {
    const rootfs = join(options.into, `stage-${i}${stage.name === undefined ? '' : `-${stage.name}`}`);
    const parent = stages.find((s) => s.name !== undefined && s.name === stage.from);
    if (parent !== undefined) await cp(parent.rootfs, rootfs, { recursive: true, verbatimSymlinks: true });
    else await mkdir(rootfs, { recursive: true, mode: 0o755 });
    const state: StageState = {
      name: stage.name, rootfs, base: parent?.base ?? stage.from, workdir: parent?.workdir ?? '/',
      env: { ...parent?.env }, user: parent?.user, entrypoint: parent?.entrypoint,
    };
    const ctx = { options, context, copied, users, groups, stages, state };
    for (const ins of stage.instructions) await apply(ctx, ins);
    stages.push(state);
  }
  const last = stages.at(-1);
  if (last === undefined) throw new Error('Dockerfile has no stage');
  return { ...last, users, groups, copiedFromContext: copied };
}

interface Ctx {
  options: BuildOptions;
  context: string[];
  copied: Set<string>;
  users: Map<number, { name: string; gid: number }>;
  groups: Map<number, string>;
  stages: StageState[];
  state: StageState;
}

/** A path of the image, inside the stage's folder whatever `..` it holds. */
function inRoot(rootfs: string, path: string): string {
  return join(rootfs, posix.resolve('/', path));
}

async function apply(ctx: Ctx, ins: Instruction): Promise<void> {
  const { state } = ctx;
  const where = `Dockerfile line ${ins.line}`;
  switch (ins.keyword) {
    case 'WORKDIR':
      state.workdir = posix.resolve(state.workdir, ins.args.trim());
      await mkdir(inRoot(state.rootfs, state.workdir), { recursive: true });
      return;
    case 'ENV':
      for (const pair of ins.args.split(/\s+/).filter((p) => p !== '')) {
        if (!pair.includes('=') || /["'$\\]/.test(pair)) throw new Error(`${where}: ENV ${ins.args}: only unquoted KEY=value pairs are emulated`);
        const [key, value] = splitArg(pair);
        state.env[key] = value ?? '';
      }
      return;
    case 'USER':
      state.user = ins.args.trim();
      return;
    case 'ENTRYPOINT':
      state.entrypoint = execForm(ins.args) ?? ['/bin/sh', '-c', ins.args];
      return;
    case 'COPY':
      await copy(ctx, ins);
      return;
    case 'RUN':
      await run(ctx, ins);
      return;
    case 'ARG': case 'LABEL': case 'EXPOSE': case 'CMD': case 'STOPSIGNAL':
      return;
    default:
      throw new Error(`${where}: ${ins.keyword} is not emulated; teach tools/kind/image-build.ts what it does`);
  }
}

async function copy(ctx: Ctx, ins: Instruction): Promise<void> {
  const { state } = ctx;
  const where = `Dockerfile line ${ins.line}`;
  const { flags, sources, dest } = copyArgs(ins.args, ins.line);
  const unknown = [...flags.keys()].filter((f) => f !== 'from');
  if (unknown.length > 0) throw new Error(`${where}: COPY --${unknown.join(', --')} is not emulated`);
  const destAbs = posix.resolve(state.workdir, dest);
  const intoFolder = dest.endsWith('/') || sources.length > 1;
  const from = flags.get('from');
  if (from !== undefined) {
    const stage = ctx.stages.find((s) => s.name === from);
    if (stage === undefined) throw new Error(`${where}: COPY --from=${from} names no earlier stage`);
    for (const src of sources) {
      const target = intoFolder ? posix.join(destAbs, posix.basename(src)) : destAbs;
      await cp(inRoot(stage.rootfs, posix.resolve(stage.workdir, src)), inRoot(state.rootfs, target), { recursive: true, verbatimSymlinks: true });
    }
    return;
  }
  for (const src of sources) {
    if (/[*?[]/.test(src)) throw new Error(`${where}: COPY ${src}: wildcards are not emulated`);
    const rel = posix.normalize(src).replace(/^(\.\/)+|\/+$/g, '').replace(/^\.$/, '');
    if (rel.startsWith('..')) throw new Error(`${where}: COPY ${src} is outside the build context`);
    const files = ctx.context.filter((f) => rel === '' || f === rel || f.startsWith(`${rel}/`));
    if (files.length === 0) throw new Error(`${where}: COPY ${src}: not in the build context once .dockerignore has filtered it`);
    for (const file of files) {
      const target = file === rel
        ? (intoFolder ? posix.join(destAbs, posix.basename(rel)) : destAbs)
        : posix.join(destAbs, rel === '' ? file : file.slice(rel.length + 1));
      const source = join(ctx.options.context, file);
      const to = inRoot(state.rootfs, target);
      await cp(source, to, { verbatimSymlinks: true });
      const stat = await lstat(source);
      // Docker keeps the context's permission bits (root owns the copy).
      if (!stat.isSymbolicLink()) await chmod(to, stat.mode & 0o7777);
      ctx.copied.add(file);
    }
  }
}

async function run(ctx: Ctx, ins: Instruction): Promise<void> {
  const { state } = ctx;
  const where = `Dockerfile line ${ins.line}`;
  if (execForm(ins.args) !== undefined) throw new Error(`${where}: exec-form RUN is not emulated`);
  if (/[;|<>$`'"(){}\\]/.test(ins.args)) throw new Error(`${where}: RUN ${ins.args}: only plain commands joined by && are emulated (no quotes, pipes, redirections or variables)`);
  for (const command of ins.args.split('&&')) {
    const [program, ...args] = command.trim().split(/\s+/);
    const says = `${where}: RUN ${command.trim()}`;
    if (program === 'npm' && args[0] === 'ci') {
      await ctx.options.npmCi(inRoot(state.rootfs, state.workdir), args.slice(1));
    } else if (program === 'chmod' && args.length === 2 && /^[0-7]{3,4}$/.test(args[0] ?? '')) {
      await chmod(inRoot(state.rootfs, posix.resolve(state.workdir, args[1] ?? '')), parseInt(args[0] ?? '', 8));
    } else if (program === 'ln' && args[0] === '-s' && args.length === 3) {
      const [, target = '', link = ''] = args;
      const linkPath = inRoot(state.rootfs, posix.resolve(state.workdir, link));
      await mkdir(posix.dirname(linkPath), { recursive: true });
      // An absolute target points into the image, so into the stage's folder here.
      await symlink(target.startsWith('/') ? inRoot(state.rootfs, target) : target, linkPath);
    } else if (program === 'groupadd' || program === 'useradd') {
      const opts = options(args, says);
      const name = opts.positional;
      if (program === 'groupadd') ctx.groups.set(numeric(opts.get('gid'), `${says}: --gid`), name);
      else ctx.users.set(numeric(opts.get('uid'), `${says}: --uid`), { name, gid: numeric(opts.get('gid'), `${says}: --gid`) });
    } else if (program === 'rm' && args[0] === '-rf') {
      for (const path of args.slice(1)) {
        const abs = posix.resolve(state.workdir, path);
        // Only the base image's files may go: this build's own are never removed.
        if (abs === '/' || abs === state.workdir || abs.startsWith(`${state.workdir}/`) || state.workdir.startsWith(`${abs}/`)) throw new Error(`${says}: removes ${path}, which the build made`);
        if (!path.includes('*')) await rm(inRoot(state.rootfs, abs), { recursive: true, force: true });
      }
    } else {
      throw new Error(`${says}: not a command the emulated build knows; teach tools/kind/image-build.ts what it does`);
    }
  }
}

/** `--name value` options (and flags without a value) of groupadd/useradd, then the one name. */
function options(args: readonly string[], says: string): Map<string, string> & { positional: string } {
  const out = new Map<string, string>();
  const positional: string[] = [];
  const valued = new Set(['uid', 'gid', 'home-dir', 'shell']);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (!arg.startsWith('--')) positional.push(arg);
    else if (valued.has(arg.slice(2))) out.set(arg.slice(2), args[++i] ?? '');
    else out.set(arg.slice(2), '');
  }
  const [name] = positional;
  if (name === undefined || positional.length !== 1) throw new Error(`${says}: expected one name, got ${positional.length}`);
  return Object.assign(out, { positional: name });
}

function numeric(value: string | undefined, what: string): number {
  if (value === undefined || !/^\d+$/.test(value)) throw new Error(`${what} must be a number, got ${value ?? 'nothing'}`);
  return Number(value);
}
