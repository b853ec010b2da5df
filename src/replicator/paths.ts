// Paths from the wire or the disk are never trusted: they must name something inside the volume.
// A valid path is relative, '/'-separated, without empty, '.' or '..' segments, NUL or a leading
// '/'. (Symlinks inside the volume are the other escape; whoever creates entries checks that no
// parent is a symlink: see the replica and materialise code.)

export const MAX_PATH_BYTES = 4096;
export const MAX_NAME_BYTES = 255;

export class PathError extends Error {
  override readonly name = 'PathError';
}

/** Returns why `path` is not a safe volume path, or undefined when it is. */
export function pathProblem(path: string): string | undefined {
  if (path === '') return 'is empty';
  if (path.includes('\0')) return 'contains NUL';
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) return `is longer than ${MAX_PATH_BYTES} bytes`;
  if (path.startsWith('/')) return 'is absolute';
  for (const segment of path.split('/')) {
    if (segment === '') return 'has an empty segment';
    if (segment === '.' || segment === '..') return `has a "${segment}" segment`;
    if (Buffer.byteLength(segment) > MAX_NAME_BYTES) return `has a name longer than ${MAX_NAME_BYTES} bytes`;
  }
  return undefined;
}

/** Throws a PathError naming the field and the problem. */
export function checkPath(field: string, path: string): string {
  const problem = pathProblem(path);
  if (problem !== undefined) throw new PathError(`${field} ${JSON.stringify(path.slice(0, 200))} ${problem}`);
  return path;
}

/** Symlink targets are data (never followed by the replicator) but still bounded and NUL-free. */
export function checkLinkTarget(field: string, target: string): string {
  if (target === '') throw new PathError(`${field} is empty`);
  if (target.includes('\0')) throw new PathError(`${field} contains NUL`);
  if (Buffer.byteLength(target) > MAX_PATH_BYTES) throw new PathError(`${field} is longer than ${MAX_PATH_BYTES} bytes`);
  return target;
}

/** The parent folders of a path, outermost first: "a/b/c" → ["a", "a/b"]. */
export function parentsOf(path: string): string[] {
  const parts = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join('/'));
  return out;
}

const VOLUME_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** Volume names are PVC names: DNS subdomains. */
export function volumeNameProblem(name: string): string | undefined {
  return VOLUME_NAME.test(name) ? undefined : 'is not a DNS subdomain (lowercase letters, digits, "-" and ".", at most 253)';
}

/** Slashes in a volume path: '' and 'a' are 0, 'a/b' is 1. */
export function depth(path: string): number {
  let n = 0;
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === 47) n++;
  return n;
}

/** Paths grouped by depth, shallowest first ('' before everything). */
export function byDepth(paths: Iterable<string>): string[][] {
  const levels = new Map<number, string[]>();
  for (const p of paths) {
    const d = p === '' ? -1 : depth(p);
    const level = levels.get(d);
    if (level === undefined) levels.set(d, [p]);
    else level.push(p);
  }
  return [...levels].sort((a, b) => a[0] - b[0]).map(([, level]) => level);
}
