// A file that is always there on the source, replaced atomically (write a temporary file, rename
// it over the old one) again and again, as applications and the example workload keep their
// state: every checkpoint must hold it, whole, at one of its versions — also when the
// replacing starts before the stream does, racing the initial sync.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Pair, STREAM } from './support/pair.ts';

/** Replaces `stamp.json` in `dir` until stopped, `pauseMs` apart. */
function replacer(dir: string, pauseMs: number): { stop: () => Promise<number> } {
  const file = join(dir, 'stamp.json');
  const state = { running: true, seq: 0 };
  const loop = (async () => {
    while (state.running) {
      state.seq++;
      await writeFile(`${file}.tmp`, JSON.stringify({ seq: state.seq, pad: 'x'.repeat(state.seq % 300) }) + '\n');
      await rename(`${file}.tmp`, file);
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  })();
  return {
    stop: async () => {
      state.running = false;
      await loop;
      return state.seq;
    },
  };
}

/** Materialises every checkpoint the target has; returns those without a whole stamp. */
async function checkpointsWithoutStamp(pair: Pair): Promise<string[]> {
  const { checkpoints } = await pair.target.ok<{ checkpoints: { seq: number }[] }>('GET', `/v1/streams/${STREAM}/checkpoints`);
  assert.ok(checkpoints.length >= 5, `${checkpoints.length} checkpoints`);
  const missing: string[] = [];
  for (const { seq } of checkpoints) {
    const restored = await pair.materialise(seq);
    try {
      const stamp = JSON.parse(readFileSync(join(restored.paths.files, 'stamp.json'), 'utf8')) as { seq: number };
      assert.ok(stamp.seq >= 1);
    } catch (err: unknown) {
      const entry = restored.files.get('stamp.json');
      missing.push(`checkpoint ${seq}: ${(err as Error).message}; stamp.json ${entry === undefined ? 'absent' : JSON.stringify(entry)}`);
    }
  }
  return missing;
}

describe('a file replaced by rename, again and again', () => {
  const pairs: Pair[] = [];
  after(async () => {
    await Promise.all(pairs.map((p) => p.close()));
  });

  it('is in every checkpoint, whole, at about the checkpoints\' own pace', async () => {
    const pair = await Pair.start({ checkpointIntervalMs: 500, volumes: ['files'] });
    pairs.push(pair);
    const writer = replacer(pair.volume, 350);
    await new Promise((r) => setTimeout(r, 8000));
    await writer.stop();
    assert.deepEqual(await checkpointsWithoutStamp(pair), []);
  });

  it('is in every checkpoint when the replacing races the initial sync', async () => {
    let writer: { stop: () => Promise<number> } | undefined;
    const pair = await Pair.start({
      checkpointIntervalMs: 1000,
      volumes: ['files'],
      prepare: async (p) => {
        // Enough files that the initial scan takes a while; then replace as fast as possible.
        for (let i = 0; i < 200; i++) await writeFile(join(p.volume, `pad${i}.bin`), Buffer.alloc(20_000, i));
        writer = replacer(p.volume, 0);
      },
    });
    pairs.push(pair);
    await new Promise((r) => setTimeout(r, 5000));
    const replaced = await writer?.stop();
    await new Promise((r) => setTimeout(r, 2500));
    assert.ok((replaced ?? 0) > 50, `replaced ${replaced ?? 0} times`);
    assert.deepEqual(await checkpointsWithoutStamp(pair), []);
  });
});
