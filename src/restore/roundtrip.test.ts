// send.ts → bytes → reader.ts → target.ts, in one process: what arrives is what was sent (modes,
// symlinks, hard links, holes), a target is refused or cleared as README.md says, and a failed
// run leaves the folder as it found it.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { lstatSync } from 'node:fs';
import { chmod, link, mkdir, mkdtemp, open, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { snapshotImage, snapshotTree } from '../../test/replicator/support/snapshot.ts';
import type { ExportHeader } from './format.ts';
import { ExportReader } from './reader.ts';
import { sendExport, totalsOf } from './send.ts';
import { inspectTarget, MOVING, PARTIAL, RestoreError } from './target.ts';
import { createWriter, type Writer } from './writers.ts';
import { imageDigest, treeDigest } from './verify.ts';

const MiB = 1024 * 1024;
const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'zcsp-restore-'));
  dirs.push(d);
  return d;
}

async function headerFor(root: string, kind: 'fs' | 'block'): Promise<ExportHeader> {
  const digest = kind === 'fs' ? await treeDigest(root, (await readdir(root)).sort()) : await imageDigest(root, lstatSync(root).size);
  return { format: 1, exportId: 'e', stream: 's', volume: 'v', kind, checkpoint: { seq: 1, time: new Date(0).toISOString() }, digest, totals: await totalsOf(root, kind) };
}

async function exportBytes(root: string, header: ExportHeader): Promise<Buffer> {
  const frames: Buffer[] = [];
  await sendExport({ root, header, write: (f) => { frames.push(f); return Promise.resolve(); } });
  return Buffer.concat(frames);
}

/** Reads `stream` in uneven chunks into `into`, as restore.ts does; stops after `limit` bytes. */
async function receive(stream: Buffer, into: string, verify = true, limit = stream.length): Promise<void> {
  const plan = await inspectTarget(into);
  const reader = new ExportReader();
  let writer: Writer | undefined;
  try {
    for (let i = 0, n = 1; i < limit; i += n, n = (n * 7 + 3) % 70_000 + 1) {
      for (const e of reader.push(stream.subarray(i, Math.min(i + n, limit)))) {
        if (e.type === 'header') writer = createWriter(into, plan, e.header);
        else await writer?.apply(e);
      }
    }
    reader.end();
    assert.ok(writer !== undefined);
    await writer.finish(verify);
  } catch (err: unknown) {
    await writer?.abandon();
    throw err;
  }
}

async function sampleTree(root: string): Promise<void> {
  await mkdir(join(root, 'etc/conf.d'), { recursive: true });
  await mkdir(join(root, 'ro'));
  await mkdir(join(root, 'empty'));
  await writeFile(join(root, 'etc/conf.d/a.conf'), 'x = 1\n');
  await writeFile(join(root, 'ro/inside'), randomBytes(70_000));
  await writeFile(join(root, 'empty-file'), '');
  // 3 MiB + a bit: data, a MiB of zeros (a hole on the wire), data, trailing zeros.
  const big = Buffer.alloc(3 * MiB + 123);
  randomBytes(MiB).copy(big, 0);
  randomBytes(1000).copy(big, 2 * MiB);
  await writeFile(join(root, 'big.bin'), big);
  await writeFile(join(root, 'setuid'), '#!/bin/sh\n', { mode: 0o755 });
  await chmod(join(root, 'setuid'), 0o4755);
  await link(join(root, 'etc/conf.d/a.conf'), join(root, 'hard-link'));
  await symlink('../outside/of/volume', join(root, 'etc/escape'));
  await symlink('/etc/passwd', join(root, 'abs'));
  await chmod(join(root, 'ro'), 0o500);
  await chmod(join(root, 'etc'), 0o750);
}

describe('export stream round trip', () => {
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('restores a tree as it was: modes, symlinks, hard links, sparse zeros, and --verify agrees', async () => {
    const src = join(await tempDir(), 'src');
    await mkdir(src);
    await sampleTree(src);
    const stream = await exportBytes(src, await headerFor(src, 'fs'));
    const into = join(await tempDir(), 'pvc');
    await receive(stream, into);
    assert.deepEqual(snapshotTree(into), snapshotTree(src));
    assert.equal(lstatSync(join(into, 'hard-link')).ino, lstatSync(join(into, 'etc/conf.d/a.conf')).ino, 'hard link kept');
    const big = lstatSync(join(into, 'big.bin'));
    assert.ok(big.blocks * 512 < 2.5 * MiB, `zeros stay holes: ${big.blocks * 512} bytes allocated for ${big.size}`);
    assert.ok(stream.length < 2 * MiB + 200_000, `the zero MiB is not sent: ${stream.length} bytes on the wire`);
    assert.deepEqual((await readdir(into)).filter((n) => n.startsWith('.zcsp')), []);
  });

  it('refuses a folder that is not empty, allows an empty lost+found, and clears what a killed run left', async () => {
    const src = join(await tempDir(), 'src');
    await mkdir(src);
    await writeFile(join(src, 'f'), 'content');
    const stream = await exportBytes(src, await headerFor(src, 'fs'));
    const into = await tempDir();
    await writeFile(join(into, 'precious'), 'keep me');
    await assert.rejects(receive(stream, into), (err: unknown) => err instanceof RestoreError && /is not empty \(1 entries, e\.g\. "precious"\)/.test(err.message));
    await rm(join(into, 'precious'));
    await mkdir(join(into, 'lost+found'), { mode: 0o700 });
    // A run killed while moving into place: its partial folder, its marker, a name it had moved.
    await mkdir(join(into, PARTIAL));
    await writeFile(join(into, PARTIAL, 'half'), 'x');
    await writeFile(join(into, MOVING), JSON.stringify(['f', '../escape']));
    await writeFile(join(into, 'f'), 'moved by the killed run');
    await receive(stream, into);
    assert.deepEqual((await readdir(into)).sort(), ['f', 'lost+found']);
    assert.equal(snapshotTree(into).get('f')?.type, 'file');
  });

  it('a failed run (cut stream, wrong digest) leaves the folder empty, and a re-run succeeds', async () => {
    const src = join(await tempDir(), 'src');
    await mkdir(src);
    await sampleTree(src);
    const header = await headerFor(src, 'fs');
    const stream = await exportBytes(src, header);
    const into = await tempDir();
    await assert.rejects(receive(stream, into, true, Math.floor(stream.length / 2)), /ended early, inside "big\.bin"/);
    assert.deepEqual(await readdir(into), []);
    const lying = await exportBytes(src, { ...header, digest: '00'.repeat(32) });
    await assert.rejects(receive(lying, into), /--verify: the restored volume's digest [0-9a-f]{64} is not the source's 0{64}/);
    assert.deepEqual(await readdir(into), []);
    await receive(stream, into);
    assert.deepEqual(snapshotTree(into), snapshotTree(src));
  });

  it('restores an image into a new file (sparse where zero), through a partial file a re-run clears', async () => {
    const dir = await tempDir();
    const image = join(dir, 'disk.img');
    const fh = await open(image, 'w');
    await fh.write(randomBytes(MiB), 0, MiB, 0);
    await fh.write(randomBytes(4096), 0, 4096, 5 * MiB);
    await fh.truncate(8 * MiB);
    await fh.close();
    const stream = await exportBytes(image, await headerFor(image, 'block'));
    const into = join(dir, 'restored', 'disk.img');
    await assert.rejects(receive(stream, into, true, stream.length - 10), /ended early/);
    await mkdir(join(dir, 'a-folder'));
    await assert.rejects(receive(stream, join(dir, 'a-folder')), /export is of a block volume \(an image\), but --into .* is a folder/);
    await writeFile(`${into}${PARTIAL}`, 'left by a killed run');
    await receive(stream, into);
    assert.deepEqual(snapshotImage(into), snapshotImage(image));
    assert.ok(lstatSync(into).blocks * 512 < 3 * MiB, 'zeros stay holes');
    assert.deepEqual((await readdir(join(dir, 'restored'))), ['disk.img']);
    await assert.rejects(receive(stream, into), (err: unknown) => err instanceof RestoreError && /exists: an image is restored into a new file or a block device/.test(err.message));
  });
});
