// The filesystem a container sees, as a list of bubblewrap operations. Pure: the host filesystem
// is read through an FsView, so the plan is unit-tested against a fake one.
//
// A container sees the host's filesystem as it is (the project's code, node, /tmp), plus its
// volumes at their mount paths, a private /proc (its own pid namespace) and a private /dev.
// Mount paths such as /data or /var/run/secrets/… usually do not exist on the host, and
// bubblewrap would create the missing mountpoints *on the host* if their parent were a bind of a
// host folder. So the root is bubblewrap's tmpfs, and host entries are bound into it one by one:
// a folder that is an ancestor of a missing mountpoint is not bound but recreated in the tmpfs
// (same mode) and its own entries bound one by one, recursively; the missing folders are then
// created in the tmpfs, never on the host. Folders on the way that exist are bound whole, so the
// container shares them with the host read-write (new files in /tmp appear on the host).
// Mount paths are resolved through the host's symlinks as a runtime resolves them inside the
// image (on Debian /var/run → /run, so /var/run/secrets/… is mounted at /run/secrets/…), and
// symlinks are recreated as symlinks.
import { posix } from 'node:path';

export type EntryType = 'dir' | 'file' | 'symlink' | 'other';

export interface FsView {
  /** The entry at path without following a final symlink; undefined when nothing is there. */
  lstat(path: string): { type: EntryType; mode: number } | undefined;
  readlink(path: string): string;
  readdir(path: string): string[];
}

export interface MountRequest {
  /** Where the container sees it. */
  containerPath: string;
  /** Real path on this machine. */
  source: string;
  readOnly: boolean;
  kind: 'dir' | 'file';
}

export type SandboxOp =
  | { op: 'bind'; src: string; dest: string; readOnly: boolean }
  | { op: 'symlink'; target: string; dest: string }
  | { op: 'dir'; dest: string; mode: number }
  | { op: 'proc'; dest: string }
  | { op: 'dev'; dest: string };

/** Folders the sandbox gets fresh instances of; mountpoints under them never touch the host. */
const PRIVATE_ROOTS = new Map<string, 'proc' | 'dev'>([
  ['/proc', 'proc'],
  ['/dev', 'dev'],
]);
const MAX_SYMLINK_HOPS = 40;

export function planMounts(requests: readonly MountRequest[], fs: FsView): SandboxOp[] {
  // Shallow mounts first, as container runtimes order them, so a mount inside another mount's
  // path lands inside that volume.
  const ordered = requests
    .map((request, index) => ({ request, index }))
    .sort((a, b) => depth(a.request.containerPath) - depth(b.request.containerPath) || a.index - b.index);

  const mounts: Array<{ target: string; request: MountRequest }> = [];
  for (const { request } of ordered) {
    if (!posix.isAbsolute(request.containerPath)) throw new Error(`mount path must be absolute: "${request.containerPath}"`);
    const target = resolveInHost(request.containerPath, fs, mounts.map((m) => m.target));
    if (target === '/' || PRIVATE_ROOTS.has(target)) throw new Error(`cannot mount a volume at ${request.containerPath}`);
    if (isUnder(target, '/proc')) throw new Error(`cannot mount a volume under /proc (${request.containerPath})`);
    mounts.push({ target, request });
  }
  const targets = new Set(mounts.map((m) => m.target));

  // Host folders that must be recreated in the tmpfs rather than bound, because a mountpoint
  // below them is missing (or is in the way with the wrong type).
  const expanded = new Set<string>(['/']);
  // Host entries of the wrong type where a folder must be (a file at /a when /a/b is wanted).
  const replaced = new Set<string>();
  for (const { target, request } of mounts) {
    if (underPrivateRoot(target) || coveredByOtherMount(target, targets)) continue;
    for (const prefix of ancestorsAndSelf(target).slice(1)) {
      const entry = fs.lstat(prefix);
      const wanted = prefix === target ? request.kind : 'dir';
      if (entry === undefined || entry.type !== wanted) {
        for (const ancestor of ancestorsAndSelf(posix.dirname(prefix))) expanded.add(ancestor);
        if (entry !== undefined) replaced.add(prefix);
        break;
      }
    }
  }

  const ops: SandboxOp[] = [
    { op: 'proc', dest: '/proc' },
    { op: 'dev', dest: '/dev' },
  ];
  const emitChildren = (dir: string): void => {
    for (const name of [...fs.readdir(dir)].sort()) {
      const path = posix.join(dir, name);
      // Mount targets are supplied by the mount (its mountpoint lives in the tmpfs).
      if (PRIVATE_ROOTS.has(path) || targets.has(path) || replaced.has(path)) continue;
      const entry = fs.lstat(path);
      if (entry === undefined) continue;
      if (expanded.has(path)) {
        ops.push({ op: 'dir', dest: path, mode: entry.mode & 0o7777 });
        emitChildren(path);
      } else if (entry.type === 'symlink') {
        ops.push({ op: 'symlink', target: fs.readlink(path), dest: path });
      } else {
        ops.push({ op: 'bind', src: path, dest: path, readOnly: false });
      }
    }
  };
  emitChildren('/');

  // Missing folders on the way to each mountpoint, created in the tmpfs (or the private /dev).
  const created = new Set<string>();
  for (const { target, request } of mounts) {
    if (!coveredByOtherMount(target, targets)) {
      for (const prefix of ancestorsAndSelf(posix.dirname(target)).slice(1)) {
        if (created.has(prefix) || expanded.has(prefix) || PRIVATE_ROOTS.has(prefix)) continue;
        const entry = underPrivateRoot(prefix) ? undefined : fs.lstat(prefix);
        if (entry?.type === 'dir') continue;
        ops.push({ op: 'dir', dest: prefix, mode: 0o755 });
        created.add(prefix);
      }
    }
    ops.push({ op: 'bind', src: request.source, dest: target, readOnly: request.readOnly });
  }
  return ops;
}

export function toBwrapArgs(ops: readonly SandboxOp[]): string[] {
  return ops.flatMap((o): string[] => {
    switch (o.op) {
      case 'bind':
        return [o.readOnly ? '--ro-bind' : '--bind', o.src, o.dest];
      case 'symlink':
        return ['--symlink', o.target, o.dest];
      case 'dir':
        return ['--perms', o.mode.toString(8).padStart(4, '0'), '--dir', o.dest];
      case 'proc':
        return ['--proc', o.dest];
      case 'dev':
        return ['--dev', o.dest];
    }
  });
}

/**
 * The path with every symlink in its existing part resolved against the host. Resolution stops
 * at a missing component, at a private root, or at an earlier mount's target (below it the
 * volume's own content decides, as in a real container).
 */
export function resolveInHost(path: string, fs: FsView, mountTargets: readonly string[] = []): string {
  let pending = posix.normalize(path).split('/').filter((p) => p !== '');
  let current = '/';
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '..') {
      current = posix.dirname(current);
      continue;
    }
    const next = posix.join(current, part);
    if (PRIVATE_ROOTS.has(next) || mountTargets.includes(next)) return posix.join(next, ...pending);
    const entry = fs.lstat(next);
    if (entry === undefined) return posix.join(next, ...pending);
    if (entry.type === 'symlink') {
      if (++hops > MAX_SYMLINK_HOPS) throw new Error(`too many levels of symbolic links in ${path}`);
      const link = fs.readlink(next);
      const restart = posix.isAbsolute(link) ? link : posix.join(current, link);
      pending = [...posix.normalize(restart).split('/').filter((p) => p !== ''), ...pending];
      current = '/';
      continue;
    }
    current = next;
  }
  return current;
}

function depth(path: string): number {
  return posix.normalize(path).split('/').filter((p) => p !== '').length;
}

/** "/", "/a", "/a/b" for "/a/b". */
function ancestorsAndSelf(path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '');
  return ['/', ...parts.map((_, i) => '/' + parts.slice(0, i + 1).join('/'))];
}

function isUnder(path: string, root: string): boolean {
  return path === root || path.startsWith(root + '/');
}

function underPrivateRoot(path: string): boolean {
  for (const root of PRIVATE_ROOTS.keys()) if (isUnder(path, root)) return true;
  return false;
}

function coveredByOtherMount(target: string, targets: ReadonlySet<string>): boolean {
  for (const other of targets) if (other !== target && isUnder(target, other)) return true;
  return false;
}
