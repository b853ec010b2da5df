import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, unlink, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FsCapture } from './fs-capture.ts';
import { MirrorSink, diffTrees } from './mirror.test-support.ts';
import { mutate, rng } from './workload.test-support.ts';

let base: string;
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'zcsp-hints-'));
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

/** Lets the event loop read what inotify queued (events are queued when the syscall returns). */
async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 30));
  await new Promise((resolve) => setImmediate(resolve));
}

let n = 0;
async function pair(): Promise<{ src: string; hinted: FsCapture; full: FsCapture; a: string; b: string; sa: MirrorSink; sb: MirrorSink }> {
  const dir = join(base, `t${n++}`);
  const [src, a, b] = [join(dir, 'src'), join(dir, 'a'), join(dir, 'b')];
  for (const d of [src, a, b]) await mkdir(d, { recursive: true });
  return {
    src,
    a,
    b,
    hinted: new FsCapture({ volume: 'vol', root: src, watch: true, fullPassEvery: 1000 }),
    full: new FsCapture({ volume: 'vol', root: src, watch: false }),
    sa: new MirrorSink().fsVolume('vol', a),
    sb: new MirrorSink().fsVolume('vol', b),
  };
}

describe('change hints', () => {
  it('hinted passes give the same result as full passes over a random workload', async () => {
    const { src, hinted, full, a, b, sa, sb } = await pair();
    const r = rng(77);
    await mutate(src, r, 30);
    let hintedPasses = 0;
    for (let pass = 0; pass < 30; pass++) {
      const did = pass === 0 ? [] : await mutate(src, r, 1 + Math.floor(r() * 8));
      await settle();
      assert.equal((await hinted.pass(sa)).complete, true);
      if (!hinted.lastPass().full) hintedPasses++;
      assert.equal((await full.pass(sb)).complete, true);
      assert.equal(full.lastPass().full, true);
      assert.deepEqual(await diffTrees(src, a), [], `hinted, pass ${pass} after: ${did.join('; ')}`);
      assert.deepEqual(await diffTrees(src, b), [], `full, pass ${pass}`);
      assert.deepEqual(Buffer.from(hinted.digest()), Buffer.from(full.digest()));
    }
    assert.ok(hintedPasses >= 25, `${hintedPasses} of 30 passes used hints`);
    assert.ok(hinted.watchedFolders() > 1);
    hinted.close();
    full.close();
  });

  it('sees what fs.watch(recursive) misses: a file turned folder, a folder made again, a folder chmod', async () => {
    const { src, hinted, a, sa } = await pair();
    await writeFile(join(src, 'x'), '1');
    await mkdir(join(src, 'd'));
    await writeFile(join(src, 'd/old'), 'old');
    await mkdir(join(src, 'm'));
    await hinted.pass(sa);
    await unlink(join(src, 'x'));
    await mkdir(join(src, 'x'));
    await rm(join(src, 'd'), { recursive: true });
    await mkdir(join(src, 'd'));
    await settle();
    await hinted.pass(sa);
    assert.equal(hinted.lastPass().full, false);
    // inside the new folders, after they were looked at once
    await writeFile(join(src, 'x/in'), 'in');
    await writeFile(join(src, 'd/new'), 'new');
    await chmod(join(src, 'm'), 0o700);
    await settle();
    await hinted.pass(sa);
    assert.equal(hinted.lastPass().full, false);
    assert.deepEqual(await diffTrees(src, a), []);
    hinted.close();
  });

  it('reads again, in a hinted pass, a file whose last read was racy though nothing hints at it', async () => {
    const dir = join(base, `t${n++}`);
    await mkdir(join(dir, 'src', 'd'), { recursive: true });
    await mkdir(join(dir, 'dst'));
    await writeFile(join(dir, 'src', 'd', 'f'), 'x'.repeat(5000));
    await writeFile(join(dir, 'src', 'g'), 'y'.repeat(7000));
    // Every read counts as racy: the file changed within the window before it was read.
    const cap = new FsCapture({ volume: 'vol', root: join(dir, 'src'), watch: true, fullPassEvery: 1000, racyMs: 600_000 });
    const sink = new MirrorSink().fsVolume('vol', join(dir, 'dst'));
    await cap.pass(sink);
    await settle();
    const again = await cap.pass(sink);
    assert.equal(cap.lastPass().full, false);
    assert.equal(again.bytesRead, 12_000, 'both files read again: their stat proves nothing');
    assert.deepEqual(await diffTrees(join(dir, 'src'), join(dir, 'dst')), []);
    cap.close();
  });

  it('a folder renamed with a file deleted from it between two passes: the file is gone from the replica too', async () => {
    const { src, hinted, a, sa } = await pair();
    await mkdir(join(src, 'p/deep'), { recursive: true });
    for (const f of ['f1', 'f2', 'deep/f3']) await writeFile(join(src, 'p', f), f);
    await hinted.pass(sa);
    await rename(join(src, 'p'), join(src, 'q'));
    await unlink(join(src, 'q/f1'));
    await unlink(join(src, 'q/deep/f3'));
    await writeFile(join(src, 'q/f2'), 'changed');
    await settle();
    await hinted.pass(sa);
    assert.equal(hinted.lastPass().full, false);
    assert.deepEqual(await diffTrees(src, a), []);
    hinted.close();
  });

  it('follows a renamed folder: later changes inside it are hinted under its new name', async () => {
    const { src, hinted, a, sa } = await pair();
    await mkdir(join(src, 'p/q'), { recursive: true });
    await hinted.pass(sa);
    await rename(join(src, 'p'), join(src, 'r'));
    await settle();
    await hinted.pass(sa);
    await writeFile(join(src, 'r/q/f'), 'f');
    await settle();
    await hinted.pass(sa);
    assert.equal(hinted.lastPass().full, false);
    assert.deepEqual(await diffTrees(src, a), []);
    hinted.close();
  });

  it('closes the watches of folders a hinted pass found gone, and keeps them while only files change', async () => {
    const { src, hinted, a, sa } = await pair();
    for (const d of ['k/a', 'k/b', 'g/a', 'g/b']) await mkdir(join(src, d), { recursive: true });
    await writeFile(join(src, 'k/a/f'), 'f');
    await hinted.pass(sa);
    assert.equal(hinted.watchedFolders(), 7, 'the root and six folders');
    await writeFile(join(src, 'k/a/f'), 'changed');
    await settle();
    await hinted.pass(sa);
    assert.equal(hinted.lastPass().full, false);
    assert.equal(hinted.watchedFolders(), 7);
    await rm(join(src, 'g'), { recursive: true });
    await settle();
    await hinted.pass(sa);
    assert.equal(hinted.lastPass().full, false);
    assert.equal(hinted.watchedFolders(), 4, 'the watches of g, g/a and g/b are closed');
    await writeFile(join(src, 'k/b/new'), 'n');
    await settle();
    await hinted.pass(sa);
    assert.deepEqual(await diffTrees(src, a), []);
    hinted.close();
  });

  it('looks only at a written file, and lists the folder again only when its entries change', async () => {
    const { src, hinted, a, sa } = await pair();
    await mkdir(join(src, 'big'));
    for (let i = 0; i < 50; i++) await writeFile(join(src, 'big', `f${i}`), `v${i}`);
    await hinted.pass(sa);
    await writeFile(join(src, 'big', 'f7'), 'written');
    await chmod(join(src, 'big', 'f8'), 0o600);
    await settle();
    await hinted.pass(sa);
    assert.equal(hinted.lastPass().full, false);
    assert.equal(hinted.lastPass().looked, 2, 'the two hinted files, not their 50 siblings');
    assert.deepEqual(await diffTrees(src, a), []);
    await writeFile(join(src, 'big', 'new'), 'n');
    await settle();
    await hinted.pass(sa);
    assert.equal(hinted.lastPass().full, false);
    assert.ok(hinted.lastPass().looked > 50, `a new name lists its folder again (looked at ${hinted.lastPass().looked})`);
    assert.deepEqual(await diffTrees(src, a), []);
    // Written, then replaced by a rename in the same interval: the rename wins, the folder is listed.
    await writeFile(join(src, 'big', 'f9'), 'written');
    await writeFile(join(src, 'big', 'tmp'), 'replacement');
    await rename(join(src, 'big', 'tmp'), join(src, 'big', 'f9'));
    await settle();
    await hinted.pass(sa);
    assert.ok(hinted.lastPass().looked > 50);
    assert.deepEqual(await diffTrees(src, a), []);
    hinted.close();
  });

  it('walks everything every fullPassEvery passes and when hints overflow', async () => {
    const dir = join(base, `t${n++}`);
    await mkdir(join(dir, 'src'), { recursive: true });
    await mkdir(join(dir, 'dst'));
    const sink = new MirrorSink().fsVolume('vol', join(dir, 'dst'));
    const cap = new FsCapture({ volume: 'vol', root: join(dir, 'src'), fullPassEvery: 3, hintLimit: 5 });
    const kinds: boolean[] = [];
    for (let i = 0; i < 7; i++) {
      await cap.pass(sink);
      kinds.push(cap.lastPass().full);
    }
    assert.deepEqual(kinds, [true, false, false, true, false, false, true]);
    for (let i = 0; i < 10; i++) await writeFile(join(dir, 'src', `f${i}`), 'x');
    await settle();
    await cap.pass(sink);
    assert.equal(cap.lastPass().full, true, 'more hints than hintLimit');
    assert.deepEqual(await diffTrees(join(dir, 'src'), join(dir, 'dst')), []);
    cap.close();
  });
});
