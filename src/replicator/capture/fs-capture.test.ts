import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile, rename, truncate, unlink, readFile, chmod, link } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execFileSync, spawn } from 'node:child_process';
import { BLOCK_SIZE } from '../hash.ts';
import type { FsManifest } from '../manifest.ts';
import { FsCapture } from './fs-capture.ts';
import { MirrorSink, diffTrees, manifestProblems, treeDigest } from './mirror.test-support.ts';
import { mutate, randomBytes, rng } from './workload.test-support.ts';
import { CaptureError } from './volume-capture.ts';

let base: string;
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'zcsp-fscap-'));
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

let n = 0;
async function setup(): Promise<{ src: string; dst: string; sink: MirrorSink }> {
  const dir = join(base, `t${n++}`);
  const src = join(dir, 'src');
  const dst = join(dir, 'dst');
  await mkdir(src, { recursive: true });
  await mkdir(dst);
  return { src, dst, sink: new MirrorSink().fsVolume('vol', dst) };
}

async function assertSame(src: string, dst: string, context: string): Promise<void> {
  assert.deepEqual(await diffTrees(src, dst), [], context);
}

describe('FsCapture', () => {
  it('copies a tree on the first pass and sends nothing when nothing changed', async () => {
    const { src, dst, sink } = await setup();
    await mkdir(join(src, 'a/b'), { recursive: true });
    await writeFile(join(src, 'a/b/big'), randomBytes(rng(1), 3 * 1024 * 1024 + 17));
    await writeFile(join(src, 'empty'), '');
    await symlink('../elsewhere', join(src, 'a/link'));
    await chmod(join(src, 'a'), 0o750);
    const cap = new FsCapture({ volume: 'vol', root: src, watch: false, racyMs: 0 });
    const r1 = await cap.pass(sink);
    assert.equal(r1.complete, true);
    await assertSame(src, dst, 'after the first pass');
    assert.equal(r1.bytesChanged, 3 * 1024 * 1024 + 17);
    // Coalesced: at most 1 MiB per write, so 4 writes for 3 MiB + 17 bytes.
    assert.equal(sink.ops('write').length, 4);
    assert.ok(sink.ops('write').every((op) => op.op === 'write' && op.data.length <= 1024 * 1024));
    assert.deepEqual(Buffer.from(cap.digest()), await treeDigest(dst));
    const before2 = sink.records.length;
    const r2 = await cap.pass(sink);
    assert.deepEqual(r2, { complete: true, bytesRead: 0, bytesChanged: 0, ops: 0 });
    assert.equal(sink.records.length, before2);
    cap.close();
  });

  it('finds the same changed blocks of a big file on a worker as on this thread', async () => {
    const { src, dst, sink } = await setup();
    const data = randomBytes(rng(21), 5 * 1024 * 1024 + 321);
    await writeFile(join(src, 'big'), data);
    const onWorker = new FsCapture({ volume: 'vol', root: src, watch: false, racyMs: 0, hashWorkers: 1 });
    const here = new FsCapture({ volume: 'vol', root: src, watch: false, racyMs: 0, hashWorkers: 0 });
    await onWorker.pass(sink);
    await here.pass({ push: () => Promise.resolve(1) });
    assert.deepEqual(onWorker.manifest(), here.manifest());
    // Three blocks in three different 1 MiB chunks, one of them the short last block.
    for (const at of [7, 2 * 1024 * 1024 + 70_000, data.length - 5]) data[at] = (data[at] ?? 0) ^ 0xff;
    await writeFile(join(src, 'big'), data);
    const a = await onWorker.pass(sink);
    const b = await here.pass({ push: () => Promise.resolve(1) });
    assert.equal(a.bytesChanged, 2 * BLOCK_SIZE + ((data.length - 1) % BLOCK_SIZE) + 1);
    assert.equal(a.bytesChanged, b.bytesChanged);
    assert.deepEqual(onWorker.manifest(), here.manifest());
    await assertSame(src, dst, 'after the change');
    onWorker.close();
    here.close();
  });

  it('sends only the changed blocks of a file, and a truncate when it shrinks', async () => {
    const { src, dst, sink } = await setup();
    const data = randomBytes(rng(2), 10 * BLOCK_SIZE);
    await writeFile(join(src, 'f'), data);
    const cap = new FsCapture({ volume: 'vol', root: src, watch: false, racyMs: 0 });
    await cap.pass(sink);
    data.fill(7, 3 * BLOCK_SIZE + 5, 3 * BLOCK_SIZE + 9);
    await writeFile(join(src, 'f'), data.subarray(0, 8 * BLOCK_SIZE + 100));
    const mark = sink.records.length;
    const r = await cap.pass(sink);
    const ops = sink.records.slice(mark).map((rec) => (rec.kind === 'op' ? rec.op.op : 'checkpoint'));
    assert.deepEqual(ops, ['truncate', 'write', 'write', 'digest']);
    // block 3 and the cut last block (8): 64 KiB + 100 bytes
    assert.equal(r.bytesChanged, BLOCK_SIZE + 100);
    await assertSame(src, dst, 'after shrink');
    cap.close();
  });

  it('extends a sparse file with a truncate and writes only its non-zero blocks', async () => {
    const { src, dst, sink } = await setup();
    await writeFile(join(src, 'f'), 'head');
    const cap = new FsCapture({ volume: 'vol', root: src, watch: false, racyMs: 0 });
    await cap.pass(sink);
    await truncate(join(src, 'f'), 20 * BLOCK_SIZE);
    const r = await cap.pass(sink);
    // only the first block (old data cut + zeros): the rest is zeros the truncate made
    assert.equal(r.bytesChanged, BLOCK_SIZE);
    await assertSame(src, dst, 'after extend');
    cap.close();
  });

  it('turns renames into rename ops: files, folders, swaps and chains', async () => {
    const { src, dst, sink } = await setup();
    const r = rng(3);
    await mkdir(join(src, 'd1/sub'), { recursive: true });
    for (const p of ['a', 'b', 'c', 'd1/x', 'd1/sub/y']) await writeFile(join(src, p), randomBytes(r, 200_000));
    const cap = new FsCapture({ volume: 'vol', root: src, watch: false, racyMs: 0 });
    await cap.pass(sink);
    const created = sink.ops('create').length;
    await rename(join(src, 'a'), join(src, 't'));
    await rename(join(src, 'b'), join(src, 'a'));
    await rename(join(src, 't'), join(src, 'b'));
    await rename(join(src, 'd1'), join(src, 'd2'));
    await rename(join(src, 'd2/sub/y'), join(src, 'y2'));
    await rename(join(src, 'c'), join(src, 'd2/c'));
    const mark = sink.records.length;
    const res = await cap.pass(sink);
    await assertSame(src, dst, 'after renames');
    assert.equal(res.bytesChanged, 0, 'renamed content is not sent again');
    assert.equal(sink.ops('create').length, created);
    const renames = sink.records.slice(mark).filter((x) => x.kind === 'op' && x.op.op === 'rename');
    // four moves (a, b, d1, d1/sub/y, c → five), each through a temporary name
    assert.equal(renames.length, 10);
    // the folder's children moved with it: no rename op names d1/x
    assert.ok(!renames.some((x) => x.kind === 'op' && x.op.op === 'rename' && x.op.from === 'd1/x'));
    const m = cap.manifest();
    assert.ok(m.entries.has('d2/x') && !m.entries.has('d1/x'));
    cap.close();
  });

  it('keeps file ids per path across renames and never reuses them', async () => {
    const { src, sink } = await setup();
    await writeFile(join(src, 'a'), 'a');
    const cap = new FsCapture({ volume: 'vol', root: src, watch: false, racyMs: 0 });
    await cap.pass(sink);
    const idA = (cap.manifest().entries.get('a') as { id: number }).id;
    await rename(join(src, 'a'), join(src, 'b'));
    await cap.pass(sink);
    assert.equal((cap.manifest().entries.get('b') as { id: number }).id, idA);
    await unlink(join(src, 'b'));
    await cap.pass(sink);
    await writeFile(join(src, 'b'), 'b');
    await cap.pass(sink);
    assert.ok((cap.manifest().entries.get('b') as { id: number }).id > idA);
    cap.close();
  });

  it('treats hard links as separate files', async () => {
    const { src, dst, sink } = await setup();
    await writeFile(join(src, 'a'), 'one');
    await link(join(src, 'a'), join(src, 'b'));
    const cap = new FsCapture({ volume: 'vol', root: src, watch: false, racyMs: 0 });
    await cap.pass(sink);
    const m = cap.manifest();
    assert.notEqual((m.entries.get('a') as { id: number }).id, (m.entries.get('b') as { id: number }).id);
    await writeFile(join(src, 'a'), 'two!');
    await cap.pass(sink);
    await assertSame(src, dst, 'both links show the new content');
    cap.close();
  });

  it('skips sockets and fifos and counts them', async () => {
    const { src, dst, sink } = await setup();
    await writeFile(join(src, 'f'), 'x');
    execFileSync('mkfifo', [join(src, 'pipe')]);
    const cap = new FsCapture({ volume: 'vol', root: src, watch: false });
    const r = await cap.pass(sink);
    assert.equal(r.complete, true);
    assert.equal(cap.lastPass().special, 1);
    assert.deepEqual([...cap.manifest().entries.keys()], ['f']);
    await unlink(join(src, 'pipe'));
    await assertSame(src, dst, 'fifo left out');
    cap.close();
  });

  it('does not follow symlinks out of the root', async () => {
    const { src, dst, sink } = await setup();
    const outside = join(base, `outside${n++}`);
    await mkdir(outside);
    await writeFile(join(outside, 'secret'), 'secret');
    await symlink(outside, join(src, 'escape'));
    const cap = new FsCapture({ volume: 'vol', root: src, watch: false });
    await cap.pass(sink);
    assert.deepEqual([...cap.manifest().entries.keys()], ['escape']);
    assert.equal(sink.writtenBytes(), 0);
    await assertSame(src, dst, 'link copied as a link');
    cap.close();
  });

  it('follows random workloads over many passes, the mirror equal after each', async () => {
    const { src, dst, sink } = await setup();
    const r = rng(42);
    await mutate(src, r, 30);
    const cap = new FsCapture({ volume: 'vol', root: src, watch: false });
    for (let pass = 0; pass < 40; pass++) {
      const did = pass === 0 ? [] : await mutate(src, r, 1 + Math.floor(r() * 8));
      const res = await cap.pass(sink);
      assert.equal(res.complete, true);
      assert.deepEqual(await diffTrees(src, dst), [], `pass ${pass} after: ${did.join('; ')}`);
      assert.deepEqual(Buffer.from(cap.digest()), await treeDigest(dst), `digest at pass ${pass}`);
    }
    cap.close();
  });

  it('keeps its volume digest right when only content changes, when a mode changes, and when entries come and go', async () => {
    const { src, dst, sink } = await setup();
    await mkdir(join(src, 'a'));
    for (const f of ['a/x', 'a/y', 'z']) await writeFile(join(src, f), randomBytes(rng(f.length), 3 * BLOCK_SIZE));
    const cap = new FsCapture({ volume: 'vol', root: src, watch: false, racyMs: 0 });
    const step = async (what: string, change: () => Promise<void>): Promise<void> => {
      await change();
      assert.equal((await cap.pass(sink)).complete, true);
      assert.deepEqual(Buffer.from(cap.digest()), await treeDigest(dst), what);
    };
    await step('first pass', () => Promise.resolve());
    // Same size, one block overwritten in place: only that file's digest changes.
    await step('a block rewritten', async () => {
      const data = await readFile(join(src, 'a/y'));
      data.fill(7, BLOCK_SIZE, 2 * BLOCK_SIZE);
      await writeFile(join(src, 'a/y'), data);
    });
    await step('cut short', () => truncate(join(src, 'z'), BLOCK_SIZE + 3));
    await step('a mode', () => chmod(join(src, 'a/x'), 0o600));
    await step('a new file', () => writeFile(join(src, 'a/w'), 'new'));
    await step('a rename', () => rename(join(src, 'a/w'), join(src, 'v')));
    await step('a removal', () => unlink(join(src, 'z')));
    await step('nothing', () => Promise.resolve());
    cap.close();
  });

  it('stops when the sink refuses and finishes on a later pass', async () => {
    const { src, dst, sink } = await setup();
    const r = rng(7);
    await mutate(src, r, 40);
    const cap = new FsCapture({ volume: 'vol', root: src, watch: false });
    let cut = 0;
    for (let round = 0; round < 12; round++) {
      if (round > 0) await mutate(src, r, 1 + Math.floor(r() * 8));
      for (let attempt = 0; ; attempt++) {
        sink.budget = attempt > 20 ? Infinity : Math.floor(r() * 10);
        const res = await cap.pass(sink);
        if (res.complete) break;
        cut++;
        // what was accepted is applied, and the manifest says exactly that
        assert.deepEqual(await manifestProblems(cap.manifest(), dst), [], `manifest after a cut pass in round ${round}`);
      }
      assert.deepEqual(await diffTrees(src, dst), [], `round ${round}`);
    }
    assert.ok(cut > 10, `${cut} passes were cut`);
    cap.close();
  });

  it('after adopting a partial manifest sends only the difference', async () => {
    const { src, dst, sink } = await setup();
    const r = rng(9);
    await mkdir(join(src, 'd'));
    for (let i = 0; i < 6; i++) await writeFile(join(src, `d/f${i}`), randomBytes(r, 5 * BLOCK_SIZE));
    const first = new FsCapture({ volume: 'vol', root: src, watch: false });
    await first.pass(sink);
    const m = first.manifest();
    first.close();
    // The replica lacks d/f1 and has a different block 2 of d/f2.
    m.entries.delete('d/f1');
    await unlink(join(dst, 'd/f1'));
    const f2 = await readFile(join(dst, 'd/f2'));
    f2.fill(1, 2 * BLOCK_SIZE, 3 * BLOCK_SIZE);
    await writeFile(join(dst, 'd/f2'), f2);
    const e2 = m.entries.get('d/f2');
    assert.ok(e2?.type === 'file');
    e2.hashes.fill(9, 2 * 16, 3 * 16);
    const second = new FsCapture({ volume: 'vol', root: src, watch: false });
    second.adopt(m);
    sink.adoptIds('vol', m);
    const before2 = sink.writtenBytes();
    const res = await second.pass(sink);
    assert.equal(res.complete, true);
    assert.equal(sink.writtenBytes() - before2, 6 * BLOCK_SIZE, 'all of f1 and one block of f2');
    await assertSame(src, dst, 'after delta sync');
    // ids: kept for adopted paths, new ones above the largest adopted id
    const kept = second.manifest();
    assert.equal((kept.entries.get('d/f0') as { id: number }).id, (m.entries.get('d/f0') as { id: number }).id);
    const maxAdopted = Math.max(...[...m.entries.values()].map((e) => (e.type === 'file' ? e.id : 0)));
    assert.ok((kept.entries.get('d/f1') as { id: number }).id > maxAdopted);
    second.close();
  });

  it('adopting an empty manifest means the replica is empty: the next pass sends everything', async () => {
    const { src, sink } = await setup();
    await writeFile(join(src, 'f'), randomBytes(rng(5), 100_000));
    const cap = new FsCapture({ volume: 'vol', root: src, watch: false });
    await cap.pass(sink);
    cap.adopt({ kind: 'fs', entries: new Map() });
    const fresh = new MirrorSink().fsVolume('vol', join(base, `empty${n++}`));
    await mkdir(join(base, `empty${n - 1}`));
    const r = await cap.pass(fresh);
    assert.equal(r.bytesChanged, 100_000);
    assert.deepEqual(await diffTrees(src, join(base, `empty${n - 1}`)), []);
    cap.close();
  });

  it('refuses bad manifests with the entry and the problem named', () => {
    const cap = new FsCapture({ volume: 'vol', root: base, watch: false });
    const fs = (entries: FsManifest['entries']): FsManifest => ({ kind: 'fs', entries });
    const check = (m: Parameters<FsCapture['adopt']>[0], re: RegExp): void =>
      assert.throws(() => cap.adopt(m), (err: unknown) => err instanceof CaptureError && err.code === 'BAD_MANIFEST' && re.test(err.message));
    check({ kind: 'block', size: 0, hashes: new Uint8Array() }, /block manifest given to a filesystem capture/);
    check(fs(new Map([['../x', { type: 'dir', mode: 0o755 }]])), /"\.\.\/x" is not a volume path/);
    check(fs(new Map([['a/b', { type: 'dir', mode: 0o755 }]])), /"a\/b" has no folder "a" above it/);
    check(fs(new Map([['f', { type: 'file', id: 0, mode: 0o644, size: 0, hashes: new Uint8Array() }]])), /"f" has file id 0/);
    check(fs(new Map([['f', { type: 'file', id: 1, mode: 0o644, size: 10, hashes: new Uint8Array() }]])), /"f" has 0 bytes of block hashes, 16 expected for size 10/);
    check(
      fs(new Map([['f', { type: 'file', id: 1, mode: 0o644, size: 0, hashes: new Uint8Array() }], ['g', { type: 'file', id: 1, mode: 0o644, size: 0, hashes: new Uint8Array() }]])),
      /"g" has file id 1, already used/,
    );
    check(fs(new Map([['d', { type: 'dir', mode: 0o10000 }]])), /"d" has mode 4096/);
    cap.close();
  });

  it('refuses bad options and use after close', async () => {
    assert.throws(() => new FsCapture({ volume: 'Bad_Name', root: base }), /volume "Bad_Name" is not a DNS subdomain/);
    assert.throws(() => new FsCapture({ volume: 'v', root: base, fullPassEvery: 0 }), /fullPassEvery 0 is not a positive integer/);
    const cap = new FsCapture({ volume: 'v', root: base, watch: false });
    cap.close();
    await assert.rejects(cap.pass(new MirrorSink()), (err: unknown) => err instanceof CaptureError && err.code === 'CLOSED');
  });

  it('fails, and removes nothing, when the root is gone', async () => {
    const { src, dst, sink } = await setup();
    await writeFile(join(src, 'f'), 'x');
    const cap = new FsCapture({ volume: 'vol', root: src, watch: false });
    await cap.pass(sink);
    await rm(src, { recursive: true });
    await assert.rejects(cap.pass(sink), (err: unknown) => err instanceof CaptureError && err.code === 'READ_FAILED' && /root .*src is not readable: ENOENT/.test(err.message));
    assert.deepEqual([...cap.manifest().entries.keys()], ['f']);
    assert.equal(sink.ops('unlink').length, 0);
    await readFile(join(dst, 'f'));
    cap.close();
  });

  it('refuses a second pass while one runs', async () => {
    const { src, sink } = await setup();
    await writeFile(join(src, 'f'), 'x');
    const cap = new FsCapture({ volume: 'vol', root: src, watch: false });
    const one = cap.pass(sink);
    await assert.rejects(cap.pass(sink), (err: unknown) => err instanceof CaptureError && err.code === 'PASS_RUNNING');
    await one;
    cap.close();
  });

  it('takes a file turning into a folder under the pass as a race', async () => {
    const { src, sink } = await setup();
    await mkdir(join(src, 'd'));
    // larger than one chunk: not read ahead, so it is opened after its create op
    await writeFile(join(src, 'd/f'), randomBytes(rng(12), 1024 * 1024 + 1));
    const cap = new FsCapture({ volume: 'vol', root: src, watch: false });
    sink.onRecord = async (rec) => {
      if (rec.kind === 'op' && rec.op.op === 'create') {
        await rm(join(src, 'd/f'));
        await mkdir(join(src, 'd/f'));
      }
    };
    const r = await cap.pass(sink);
    // a type change under the pass is a race, not an error: the next pass fixes it
    assert.equal(r.complete, true);
    assert.equal(cap.lastPass().raced, 1);
    sink.onRecord = undefined;
    await cap.pass(sink);
    assert.equal(cap.manifest().entries.get('d/f')?.type, 'dir');
    cap.close();
  });

  it('takes a small file that vanished before its read-ahead as a race', async () => {
    const { src, dst, sink } = await setup();
    await writeFile(join(src, 'a'), 'a');
    const cap = new FsCapture({ volume: 'vol', root: src, watch: false });
    await cap.pass(sink);
    await unlink(join(src, 'a'));
    await writeFile(join(src, 'b'), 'small');
    await writeFile(join(src, 'c'), 'also small');
    // removals come before additions: b goes after the walk saw it, before it is read
    sink.onRecord = async (rec) => {
      if (rec.kind === 'op' && rec.op.op === 'unlink' && rec.op.path === 'a') await unlink(join(src, 'b'));
    };
    const r = await cap.pass(sink);
    assert.equal(r.complete, true);
    assert.equal(cap.lastPass().raced, 1);
    // The pass ends as the volume was when it looked again: without b, not with an empty b.
    await assertSame(src, dst, 'after the pass b vanished in');
    sink.onRecord = undefined;
    await cap.pass(sink);
    await assertSame(src, dst, 'after the next pass');
    cap.close();
  });

  it('ends no pass with a file that was never there: one renamed over again and again is whole after every complete pass', async () => {
    const { src, dst, sink } = await setup();
    for (let i = 0; i < 100; i++) await writeFile(join(src, `pad${i}`), Buffer.alloc(20_000, i));
    // Another process replaces stamp.json as fast as it can (write a temporary file, rename it over).
    const writer = spawn(process.execPath, ['-e', `
      const { writeFileSync, renameSync } = require('node:fs');
      const [dir, ms] = process.argv.slice(1);
      const end = Date.now() + Number(ms);
      for (let seq = 1; Date.now() < end; seq++) {
        writeFileSync(dir + '/stamp.json.tmp', JSON.stringify({ seq, pad: 'x'.repeat(seq % 300) }));
        renameSync(dir + '/stamp.json.tmp', dir + '/stamp.json');
      }`, src, '3000'], { stdio: 'ignore' });
    const exited = new Promise((r) => writer.once('exit', r));
    // From its first rename on, stamp.json is always there, whole.
    while (!existsSync(join(src, 'stamp.json'))) await new Promise((r) => setTimeout(r, 5));
    const cap = new FsCapture({ volume: 'vol', root: src });
    const problems: string[] = [];
    let complete = 0;
    let passes = 0;
    const end = Date.now() + 2500;
    while (Date.now() < end) {
      const r = await cap.pass(sink);
      passes++;
      if (!r.complete) continue;
      complete++;
      try {
        const stamp = JSON.parse(await readFile(join(dst, 'stamp.json'), 'utf8')) as { seq: number };
        assert.ok(stamp.seq >= 1);
      } catch (err: unknown) {
        problems.push(`pass ${passes}: ${(err as Error).message}`);
      }
    }
    await exited;
    await cap.pass(sink);
    await assertSame(src, dst, 'once the writer stopped');
    cap.close();
    assert.deepEqual(problems.slice(0, 5), [], `${problems.length} of ${complete} complete passes (of ${passes}) had no whole stamp`);
  });

  it('takes files that vanish, turn into links or shrink while read as races, fixed next pass', async () => {
    const { src, dst, sink } = await setup();
    for (const p of ['gone', 'linked', 'shrunk', 'ok']) await writeFile(join(src, p), randomBytes(rng(11), 3 * 1024 * 1024));
    const cap = new FsCapture({ volume: 'vol', root: src, watch: false });
    let shrunk = false;
    sink.onRecord = async (rec) => {
      if (rec.kind !== 'op') return;
      const op = rec.op;
      if (op.op === 'create' && op.path === 'gone') await unlink(join(src, 'gone'));
      if (op.op === 'create' && op.path === 'linked') {
        await unlink(join(src, 'linked'));
        await symlink('ok', join(src, 'linked'));
      }
      if (op.op === 'write' && op.offset === 0 && !shrunk) {
        const m = cap.manifest();
        const e = [...m.entries].find(([, v]) => v.type === 'file' && v.id === op.id);
        if (e?.[0] === 'shrunk') {
          shrunk = true;
          await truncate(join(src, 'shrunk'), 1024 * 1024 + 5);
        }
      }
    };
    const r = await cap.pass(sink);
    assert.equal(r.complete, true);
    assert.equal(cap.lastPass().raced, 3);
    assert.ok(shrunk);
    assert.deepEqual(Buffer.from(cap.digest()), await treeDigest(dst), 'the manifest matches what was applied');
    sink.onRecord = undefined;
    await cap.pass(sink);
    await assertSame(src, dst, 'after the next pass');
    cap.close();
  });

  it('reads an unchanged file again only when it changed within a timestamp tick of being read', async () => {
    const { src, dst, sink } = await setup();
    await writeFile(join(src, 'small'), randomBytes(rng(31), 100_000));
    await writeFile(join(src, 'big'), randomBytes(rng(32), 2 * 1024 * 1024 + 3));
    // Well past a tick (ext4 and tmpfs stamp in ns from a clock that moves every 1–10 ms).
    await new Promise((resolve) => setTimeout(resolve, 150));
    const cap = new FsCapture({ volume: 'vol', root: src, watch: false });
    assert.equal((await cap.pass(sink)).bytesRead, 100_000 + 2 * 1024 * 1024 + 3);
    assert.equal((await cap.pass(sink)).bytesRead, 0, 'not racy: the stat proves it unchanged');
    // A window wider than the time since the change: both are read again.
    const wide = new FsCapture({ volume: 'vol', root: src, watch: false, racyMs: 600_000 });
    const wideSink = new MirrorSink().fsVolume('vol', join(dst, '..', 'dst2'));
    await mkdir(join(dst, '..', 'dst2'));
    await wide.pass(wideSink);
    assert.equal((await wide.pass(wideSink)).bytesRead, 100_000 + 2 * 1024 * 1024 + 3);
    await assertSame(src, dst, 'after the passes');
    cap.close();
    wide.close();
  });
});
