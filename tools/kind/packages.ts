// The packages of a node_modules tree, and the ones package-lock.json says production needs: how
// the image test tells that `npm ci --omit=dev` installed exactly the production packages, and
// how it installs them without npm's cache (a copy from this checkout's node_modules).
import { cp, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

interface LockPackage {
  dev?: boolean;
  os?: string[];
  cpu?: string[];
  link?: boolean;
}

/** Lockfile keys (`node_modules/a`, `node_modules/a/node_modules/b`) of what `--omit=dev` installs here. */
export function productionPackages(lock: { packages?: Record<string, LockPackage> }): string[] {
  const fits = (list: string[] | undefined, value: string): boolean =>
    list === undefined || (list.includes(value) || (list.some((v) => v.startsWith('!')) && !list.includes(`!${value}`)));
  return Object.entries(lock.packages ?? {})
    .filter(([key, p]) => key.startsWith('node_modules/') && p.dev !== true && fits(p.os, process.platform) && fits(p.cpu, process.arch))
    .map(([key]) => key)
    .sort();
}

/** The packages installed under `root`/node_modules, as lockfile keys. */
export async function installedPackages(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (modules: string): Promise<void> => {
    const dir = join(root, modules);
    if (!existsSync(dir)) return;
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || !entry.isDirectory()) continue;
      const names = entry.name.startsWith('@')
        ? (await readdir(join(dir, entry.name), { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => `${entry.name}/${e.name}`)
        : [entry.name];
      for (const name of names) {
        const key = `${modules}/${name}`;
        out.push(key);
        await walk(`${key}/node_modules`);
      }
    }
  };
  await walk('node_modules');
  return out.sort();
}

/** Copies the given packages (lockfile keys) from one project's node_modules to another's. */
export async function copyPackages(from: string, to: string, keys: readonly string[]): Promise<void> {
  // Each package without its nested node_modules: the nested packages production needs are keys
  // of their own, copied after their parent (keys sort parents first).
  for (const key of [...keys].sort()) {
    const nested = join(from, key, 'node_modules');
    await cp(join(from, key), join(to, key), { recursive: true, verbatimSymlinks: true, filter: (src) => src !== nested && !src.startsWith(`${nested}/`) });
  }
}
