import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Record } from '../ops.ts';
import { BlockCapture } from './block-capture.ts';
import { Checkpointer, CheckpointerError } from './checkpointer.ts';
import { FsCapture } from './fs-capture.ts';
import { MirrorSink, diffTrees } from './mirror.test-support.ts';
import { randomBytes, rng } from './workload.test-support.ts';

let base: string;
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'zcsp-ckpt-'));
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

let n = 0;
async function setup(): Promise<{ dir: string; src: string; dst: string; image: string; mirror: string; sink: MirrorSink; captures: [FsCapture, BlockCapture] }> {
  const dir = join(base, `t${n++}`);
  const [src, dst] = [join(dir, 'src'), join(dir, 'dst')];
  await mkdir(src, { recursive: true });
  await mkdir(dst);
  const [image, mirror] = [join(dir, 'disk.img'), join(dir, 'disk.mirror')];
  await writeFile(join(src, 'f'), randomBytes(rng(1), 300_000));
  await writeFile(image, randomBytes(rng(2), 700_000));
  await writeFile(mirror, '');
  const sink = new MirrorSink().fsVolume('files', dst).blockVolume('disk', mirror);
  return { dir, src, dst, image, mirror, sink, captures: [new FsCapture({ volume: 'files', root: src, watch: false }), new BlockCapture({ volume: 'disk', path: image })] };
}

function close(captures: { close(): void }[]): void {
  for (const c of captures) c.close();
}

describe('Checkpointer', () => {
  it('ends a complete pass with one checkpoint: pass start time, every volume digest', async () => {
    const { src, dst, sink, captures } = await setup();
    let clock = 1_000_000;
    const cp = new Checkpointer({ captures, sink, now: () => (clock += 10) });
    const r = await cp.runOnce();
    assert.equal(r.complete, true);
    assert.equal(r.startedAt, 1_000_010);
    const last = sink.records.at(-1);
    assert.ok(last?.kind === 'checkpoint');
    assert.equal(r.checkpointSeq, sink.seq);
    assert.equal(last.checkpoint.time, 1_000_010);
    assert.equal(last.checkpoint.tag, '');
    // the mirror sink checks each digest against the mirrors when it applies the checkpoint
    assert.deepEqual(last.checkpoint.volumes.map((v) => v.volume), ['files', 'disk']);
    assert.deepEqual(Buffer.from(last.checkpoint.volumes[0]?.digest ?? []), Buffer.from(captures[0].digest()));
    assert.equal(sink.checkpoints().length, 1);
    assert.deepEqual(await diffTrees(src, dst), []);
    close(captures);
  });

  it('changes its volumes between passes: a running pass keeps the list it started with', async () => {
    const { sink, captures } = await setup();
    const [files, disk] = captures;
    // Runs `during` at the first record a pass pushes: the pass is running then.
    let during: (() => void) | undefined;
    const hooked = { push: (r: Record) => {
      const f = during;
      during = undefined;
      f?.();
      return sink.push(r);
    } };
    const cp = new Checkpointer({ captures: [files], sink: hooked });
    try {
      assert.deepEqual((await cp.runOnce()).volumes, ['files']);
      // A volume added while a pass runs is in the next one, not in it.
      during = () => {
        cp.setCaptures([files, disk]);
      };
      assert.deepEqual((await cp.runOnce()).volumes, ['files']);
      assert.deepEqual(cp.volumes(), ['files', 'disk']);
      const both = await cp.runOnce();
      assert.deepEqual(both.volumes, ['files', 'disk']);
      assert.deepEqual(sink.checkpoints().at(-1)?.volumes.map((v) => v.volume), ['files', 'disk']);
      assert.deepEqual(cp.progress().volumes.map((v) => [v.volume, v.bytesDone === v.bytesTotal]), [['files', true], ['disk', true]]);
      // Removed while a pass runs: once settled() resolves, no pass goes over it any more.
      let settled: Promise<void> | undefined;
      during = () => {
        cp.setCaptures([disk]);
        settled = cp.settled();
      };
      assert.deepEqual((await cp.runOnce()).volumes, ['files', 'disk']);
      await settled;
      assert.deepEqual((await cp.runOnce()).volumes, ['disk']);
      assert.throws(() => {
        cp.setCaptures([disk, disk]);
      }, /volume disk is captured twice/);
    } finally {
      close(captures);
    }
  });

  it('pushes no checkpoint for a pass cut short; the next pass completes it', async () => {
    const { sink, captures, image, mirror } = await setup();
    const cp = new Checkpointer({ captures, sink });
    sink.budget = 3;
    const r1 = await cp.runOnce();
    assert.deepEqual({ complete: r1.complete, seq: r1.checkpointSeq }, { complete: false, seq: undefined });
    assert.equal(sink.checkpoints().length, 0);
    assert.equal(cp.progress().lastPass?.complete, false);
    sink.budget = Infinity;
    const r2 = await cp.runOnce();
    assert.equal(r2.complete, true);
    assert.equal(sink.checkpoints().length, 1);
    assert.ok((await readFile(image)).equals(await readFile(mirror)));
    close(captures);
  });

  it('does not count a refused checkpoint record as a checkpoint', async () => {
    const { sink, captures } = await setup();
    const cp = new Checkpointer({ captures, sink: { push: (r) => (r.kind === 'checkpoint' ? Promise.resolve(false) : sink.push(r)) } });
    const r = await cp.runOnce();
    assert.deepEqual({ complete: r.complete, seq: r.checkpointSeq }, { complete: false, seq: undefined });
    assert.equal(cp.progress().initial, true);
    assert.equal(cp.progress().lastPass?.complete, false);
    close(captures);
  });

  it('runs the pre hook before and the post hook after the pass', async () => {
    const { dir, sink, captures } = await setup();
    const log = join(dir, 'hooks.log');
    const order: string[] = [];
    sink.onRecord = async (rec: Record) => {
      if (rec.kind === 'checkpoint') order.push(`checkpoint (log: ${(await readFile(log, 'utf8')).trim().replace(/\n/g, ',')})`);
      else if (order.length === 0) order.push(`first op (log: ${(await readFile(log, 'utf8')).trim()})`);
    };
    const cp = new Checkpointer({
      captures,
      sink,
      hooks: { pre: { command: ['sh', '-c', `echo pre >> ${log}`] }, post: { command: ['sh', '-c', `echo post >> ${log}`] } },
    });
    await cp.runOnce();
    assert.deepEqual(order, ['first op (log: pre)', 'checkpoint (log: pre,post)']);
    assert.equal(cp.progress().hookFailures, 0);
    close(captures);
  });

  it('takes the checkpoint when a hook fails or times out, and reports it', async () => {
    const { sink, captures } = await setup();
    const cp = new Checkpointer({
      captures,
      sink,
      hooks: { pre: { command: ['sh', '-c', 'echo "no freeze" >&2; exit 2'] }, post: { command: ['sleep', '5'], timeoutMs: 150 } },
    });
    const r = await cp.runOnce();
    assert.equal(r.complete, true);
    assert.equal(sink.checkpoints().length, 1);
    const p = cp.progress();
    assert.equal(p.hookFailures, 2);
    assert.match(p.lastHookError ?? '', /post hook "sleep 5" did not finish within 150 ms/);
    close(captures);
  });

  it('runs the post hook when the pass fails', async () => {
    const { dir, sink } = await setup();
    const marker = join(dir, 'post-ran');
    const broken = new BlockCapture({ volume: 'disk', path: join(dir, 'missing.img') });
    const cp = new Checkpointer({ captures: [broken], sink, hooks: { post: { command: ['touch', marker] } } });
    await assert.rejects(cp.runOnce(), /opening .*missing\.img failed/);
    await readFile(marker);
    assert.equal(sink.checkpoints().length, 0);
    assert.equal(cp.progress().lastPass?.complete, false);
    broken.close();
  });

  it('reports initial sync progress with an ETA from the observed rate', async () => {
    const { sink, captures } = await setup();
    let clock = 0;
    const cp = new Checkpointer({ captures, sink, now: () => (clock += 1000) });
    assert.equal(cp.progress().initial, true);
    const seen: { done: number; total: number; eta: number | undefined }[] = [];
    sink.onRecord = (rec) => {
      if (rec.kind === 'op' && rec.op.op === 'write') {
        const p = cp.progress();
        seen.push({ done: p.bytesDone, total: p.bytesTotal, eta: p.etaSeconds });
      }
      return Promise.resolve();
    };
    await cp.runOnce();
    assert.ok(seen.length > 0);
    assert.ok(seen.every((s) => s.total === 1_000_000));
    assert.ok(seen.some((s) => s.eta !== undefined && s.eta > 0), JSON.stringify(seen));
    const done = seen.map((s) => s.done);
    assert.deepEqual(done, [...done].sort((a, b) => a - b), 'bytes done only grow');
    const after = cp.progress();
    assert.equal(after.initial, false);
    assert.equal(after.etaSeconds, undefined);
    assert.equal(after.lastPass?.bytesRead, 1_000_000);
    close(captures);
  });

  it('never runs two passes at once', async () => {
    const { sink, captures } = await setup();
    let inside = 0;
    let most = 0;
    const inner = sink.push.bind(sink);
    const cp = new Checkpointer({
      captures,
      sink: {
        push: async (r) => {
          inside++;
          most = Math.max(most, inside);
          await new Promise((resolve) => setImmediate(resolve));
          inside--;
          return inner(r);
        },
      },
    });
    const results = await Promise.all([cp.runOnce(), cp.runOnce(), cp.runOnce()]);
    assert.ok(results.every((r) => r.complete));
    assert.equal(most, 1);
    assert.equal(sink.checkpoints().length, 3);
    close(captures);
  });

  it('requestTag: the next pass carries the tag; resolves with its seq', async () => {
    const { sink, captures } = await setup();
    const cp = new Checkpointer({ captures, sink });
    const seq = await cp.requestTag('before-upgrade');
    const tagged = sink.records[seq - 1];
    assert.ok(tagged?.kind === 'checkpoint');
    assert.equal(tagged.checkpoint.tag, 'before-upgrade');
    // a tag waits through a cut pass for one that completes
    sink.budget = 0;
    const pending = cp.requestTag('second');
    await new Promise((resolve) => setTimeout(resolve, 50));
    sink.budget = Infinity;
    const r = await cp.runOnce();
    assert.equal(await pending, r.checkpointSeq);
    assert.equal(sink.checkpoints().at(-1)?.tag, 'second');
    await assert.rejects(cp.requestTag('x'.repeat(300)), (err: unknown) => err instanceof CheckpointerError && err.code === 'BAD_TAG' && /300 bytes, more than 253/.test(err.message));
    close(captures);
  });

  it('loops every intervalMs once started; a tag request wakes it; stop ends it', async () => {
    const { sink, captures, src } = await setup();
    const cp = new Checkpointer({ captures, sink, intervalMs: 60_000 });
    cp.start();
    cp.start();
    while (sink.checkpoints().length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await writeFile(join(src, 'g'), 'tagged content');
    const seq = await cp.requestTag('now');
    assert.equal(sink.checkpoints().length, 2, 'the tag did not wait for the interval');
    assert.ok(sink.records.slice(0, seq).some((r) => r.kind === 'op' && r.op.op === 'create' && r.op.path === 'g'));
    await cp.stop();
    sink.budget = 0;
    const orphan = cp.requestTag('never');
    await cp.stop();
    await assert.rejects(orphan, (err: unknown) => err instanceof CheckpointerError && err.code === 'STOPPED' && /tagged "never"/.test(err.message));
    close(captures);
  });

  it('refuses the same volume twice', () => {
    const a = new FsCapture({ volume: 'v', root: base, watch: false });
    assert.throws(() => new Checkpointer({ captures: [a, a], sink: new MirrorSink() }), /volume v is captured twice/);
    a.close();
  });
});
