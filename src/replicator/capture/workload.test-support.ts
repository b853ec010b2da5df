// Random changes to a source tree for capture tests: writes, appends, truncates, renames of
// files and folders (swaps and chains too), deletes, chmods, symlinks, hard links, type changes.
import { appendFile, chmod, link, mkdir, open, readdir, rename, rm, stat, symlink, truncate, unlink, writeFile, lstat } from 'node:fs/promises';
import { join } from 'node:path';

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytes(r: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  // Runs of repeated bytes and random ones: some blocks compress, some do not.
  let i = 0;
  while (i < n) {
    const run = Math.min(n - i, 1 + Math.floor(r() * 4096));
    if (r() < 0.5) b.fill(Math.floor(r() * 256), i, i + run);
    else for (let k = i; k < i + run; k++) b[k] = Math.floor(r() * 256);
    i += run;
  }
  return b;
}

async function list(root: string, rel = '', out: { files: string[]; dirs: string[]; links: string[] } = { files: [], dirs: [], links: [] }): Promise<typeof out> {
  for (const name of await readdir(rel === '' ? root : join(root, rel))) {
    const p = rel === '' ? name : `${rel}/${name}`;
    const s = await lstat(join(root, p));
    if (s.isDirectory()) {
      out.dirs.push(p);
      await list(root, p, out);
    } else if (s.isSymbolicLink()) out.links.push(p);
    else if (s.isFile()) out.files.push(p);
  }
  return out;
}

const FILE_MODES = [0o644, 0o600, 0o755, 0o640, 0o400, 0o4755];
const DIR_MODES = [0o755, 0o700, 0o750, 0o1777];

/** Applies `steps` random changes; returns what it did (for failure messages). */
export async function mutate(root: string, r: () => number, steps: number): Promise<string[]> {
  const done: string[] = [];
  const pick = <T>(xs: T[]): T | undefined => xs[Math.floor(r() * xs.length)];
  let seq = 0;
  const fresh = (dir: string | undefined): string => {
    const name = `n${Date.now() % 100000}-${seq++}-${Math.floor(r() * 1e6)}`;
    return dir === undefined || dir === '' ? name : `${dir}/${name}`;
  };
  for (let i = 0; i < steps; i++) {
    const { files, dirs, links } = await list(root);
    const dirsOrRoot = ['', ...dirs];
    const k = r();
    const f = pick(files);
    const abs = (p: string): string => join(root, p);
    if (k < 0.14 || f === undefined) {
      const p = fresh(pick(dirsOrRoot));
      const size = r() < 0.3 ? Math.floor(r() * 300_000) : Math.floor(r() * 5000);
      await writeFile(abs(p), randomBytes(r, size));
      done.push(`create ${p} ${size}`);
    } else if (k < 0.3) {
      const size = (await stat(abs(f))).size;
      const at = Math.floor(r() * (size + 70_000));
      const data = randomBytes(r, 1 + Math.floor(r() * 100_000));
      const h = await open(abs(f), 'r+');
      await h.write(data, 0, data.length, at);
      await h.close();
      done.push(`write ${f} @${at} ${data.length}`);
    } else if (k < 0.36) {
      await appendFile(abs(f), randomBytes(r, Math.floor(r() * 80_000)));
      done.push(`append ${f}`);
    } else if (k < 0.42) {
      const size = Math.floor(r() * 200_000);
      await truncate(abs(f), size);
      done.push(`truncate ${f} ${size}`);
    } else if (k < 0.5) {
      const to = r() < 0.3 ? (pick(files) ?? fresh('')) : fresh(pick(dirsOrRoot));
      await rename(abs(f), abs(to));
      done.push(`rename ${f} → ${to}`);
    } else if (k < 0.55) {
      const g = pick(files);
      if (g !== undefined && g !== f) {
        const t = fresh('');
        await rename(abs(f), abs(t));
        await rename(abs(g), abs(f));
        await rename(abs(t), abs(g));
        done.push(`swap ${f} ↔ ${g}`);
      }
    } else if (k < 0.6) {
      const d = pick(dirs);
      if (d !== undefined) {
        const into = pick(dirsOrRoot.filter((x) => x !== d && !x.startsWith(`${d}/`)));
        const to = fresh(into);
        await rename(abs(d), abs(to));
        done.push(`rename dir ${d} → ${to}`);
      }
    } else if (k < 0.63) {
      const d = pick(dirs);
      const e = pick(dirs);
      if (d !== undefined && e !== undefined && d !== e && !d.startsWith(`${e}/`) && !e.startsWith(`${d}/`)) {
        const t = fresh('');
        await rename(abs(d), abs(t));
        await rename(abs(e), abs(d));
        await rename(abs(t), abs(e));
        done.push(`swap dir ${d} ↔ ${e}`);
      }
    } else if (k < 0.7) {
      await unlink(abs(f));
      done.push(`delete ${f}`);
    } else if (k < 0.73) {
      const d = pick(dirs);
      if (d !== undefined) {
        await rm(abs(d), { recursive: true });
        done.push(`delete dir ${d}`);
      }
    } else if (k < 0.79) {
      const mode = pick(FILE_MODES) ?? 0o644;
      await chmod(abs(f), mode);
      done.push(`chmod ${f} ${mode.toString(8)}`);
    } else if (k < 0.82) {
      const d = pick(dirs);
      const mode = pick(DIR_MODES) ?? 0o755;
      if (d !== undefined) {
        await chmod(abs(d), mode);
        done.push(`chmod ${d} ${mode.toString(8)}`);
      }
    } else if (k < 0.87) {
      const p = fresh(pick(dirsOrRoot));
      await mkdir(abs(p));
      done.push(`mkdir ${p}`);
    } else if (k < 0.92) {
      const l = pick(links);
      const target = r() < 0.5 ? `../${fresh('')}` : (pick(files) ?? 'x');
      if (l !== undefined && r() < 0.5) {
        await unlink(abs(l));
        await symlink(target, abs(l));
        done.push(`retarget ${l} → ${target}`);
      } else {
        const p = fresh(pick(dirsOrRoot));
        await symlink(target, abs(p));
        done.push(`symlink ${p} → ${target}`);
      }
    } else if (k < 0.95) {
      // type changes: a file becomes a folder, or a folder a file
      const d = pick(dirs);
      if (r() < 0.5 || d === undefined) {
        await unlink(abs(f));
        await mkdir(abs(f));
        await writeFile(abs(`${f}/inside`), randomBytes(r, 1000));
        done.push(`file→dir ${f}`);
      } else {
        await rm(abs(d), { recursive: true });
        await writeFile(abs(d), randomBytes(r, 3000));
        done.push(`dir→file ${d}`);
      }
    } else if (k < 0.97) {
      const p = fresh(pick(dirsOrRoot));
      await link(abs(f), abs(p));
      done.push(`hard link ${p} = ${f}`);
    } else {
      // a chain: a → b, b → c, c → new
      const [a, b, c] = [pick(files), pick(files), pick(files)];
      if (a !== undefined && b !== undefined && c !== undefined && new Set([a, b, c]).size === 3) {
        const n = fresh('');
        await rename(abs(c), abs(n));
        await rename(abs(b), abs(c));
        await rename(abs(a), abs(b));
        done.push(`chain ${a} → ${b} → ${c} → ${n}`);
      }
    }
  }
  return done;
}
