// Random changes to a volume, the kinds a real workload makes: new files, overwrites in place,
// appends, truncates, renames (files and folders, over existing files), deletes, mode changes,
// symlinks, new and removed folders; and random writes and resizes of a block image.
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { appendFile, chmod, mkdir, open, rename, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Random } from './random.ts';

interface Entry { path: string; type: 'file' | 'dir' | 'symlink' }

function list(root: string, rel = ''): Entry[] {
  const out: Entry[] = [];
  for (const d of readdirSync(join(root, rel), { withFileTypes: true })) {
    const path = rel === '' ? d.name : `${rel}/${d.name}`;
    if (d.isSymbolicLink()) out.push({ path, type: 'symlink' });
    else if (d.isDirectory()) {
      out.push({ path, type: 'dir' });
      out.push(...list(root, path));
    } else if (d.isFile()) out.push({ path, type: 'file' });
  }
  return out;
}

/** Applies `count` random operations under `root`; returns how many bytes it wrote. */
export async function fsWorkload(root: string, rnd: Random, count: number, options: { maxFileBytes?: number } = {}): Promise<number> {
  const maxBytes = options.maxFileBytes ?? 300_000;
  let written = 0;
  for (let i = 0; i < count; i++) {
    const entries = list(root);
    const files = entries.filter((e) => e.type === 'file');
    const dirs = ['', ...entries.filter((e) => e.type === 'dir').map((e) => e.path)];
    const newPath = (): string => {
      const dir = rnd.pick(dirs);
      const name = `${rnd.pick(['a', 'b', 'c', 'data', 'log', 'ü'])}${rnd.int(50)}${rnd.pick(['', '.txt', '.bin'])}`;
      return dir === '' ? name : `${dir}/${name}`;
    };
    const kind = rnd.int(100);
    try {
      if (kind < 22 || files.length === 0) {
        const p = newPath();
        if (existsSync(join(root, p))) continue;
        const data = rnd.bytes(rnd.int(maxBytes));
        await writeFile(join(root, p), data, { mode: rnd.pick([0o644, 0o600, 0o755]) });
        written += data.length;
      } else if (kind < 45) {
        // Overwrite a range in place (a database page, a block).
        const f = rnd.pick(files);
        const size = lstatSync(join(root, f.path)).size;
        const fh = await open(join(root, f.path), 'r+');
        try {
          const data = rnd.bytes(1 + rnd.int(100_000));
          await fh.write(data, 0, data.length, rnd.int(size + 1));
          written += data.length;
        } finally {
          await fh.close();
        }
      } else if (kind < 55) {
        const data = rnd.bytes(1 + rnd.int(50_000));
        await appendFile(join(root, rnd.pick(files).path), data);
        written += data.length;
      } else if (kind < 62) {
        const f = rnd.pick(files);
        await truncate(join(root, f.path), rnd.int(lstatSync(join(root, f.path)).size + 70_000));
      } else if (kind < 72) {
        const from = rnd.pick(entries.length > 0 ? entries : files);
        const to = rnd.chance(0.3) && files.length > 1 ? rnd.pick(files).path : newPath();
        if (to === from.path || to.startsWith(`${from.path}/`)) continue;
        if (from.type === 'dir' && existsSync(join(root, to))) continue;
        if (existsSync(join(root, to)) && lstatSync(join(root, to)).isDirectory()) continue;
        await rename(join(root, from.path), join(root, to));
      } else if (kind < 80) {
        const e = rnd.pick(entries.length > 0 ? entries : files);
        await rm(join(root, e.path), { recursive: true, force: true });
      } else if (kind < 86) {
        const e = rnd.pick(entries.filter((x) => x.type !== 'symlink').length > 0 ? entries.filter((x) => x.type !== 'symlink') : files);
        await chmod(join(root, e.path), e.type === 'dir' ? rnd.pick([0o755, 0o700, 0o750]) : rnd.pick([0o644, 0o600, 0o640, 0o755, 0o4755]));
      } else if (kind < 92) {
        const p = newPath();
        if (existsSync(join(root, p)) || lstatSync(join(root, p), { throwIfNoEntry: false }) !== undefined) continue;
        await symlink(rnd.pick(['../outside', '/etc/passwd', files[0]?.path ?? 'x', 'dangling/target']), join(root, p));
      } else {
        const p = newPath();
        if (existsSync(join(root, p))) continue;
        await mkdir(join(root, p), { mode: 0o755 });
      }
    } catch (err: unknown) {
      // A race with our own earlier choice (a parent renamed away): skip, as a real workload would.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EISDIR' && code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    }
  }
  return written;
}

/** Random writes into an image file, and now and then a resize. */
export async function blockWorkload(image: string, rnd: Random, count: number): Promise<number> {
  let written = 0;
  const fh = await open(image, 'r+');
  try {
    for (let i = 0; i < count; i++) {
      const size = (await fh.stat()).size;
      if (rnd.chance(0.05)) {
        await fh.truncate(Math.max(4096, size + (rnd.chance(0.5) ? 1 : -1) * rnd.int(200_000)));
        continue;
      }
      const data = rnd.bytes(1 + rnd.int(40_000));
      await fh.write(data, 0, data.length, rnd.int(Math.max(1, size - data.length)));
      written += data.length;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  return written;
}
