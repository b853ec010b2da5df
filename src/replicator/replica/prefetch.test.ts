import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Prefetch } from './prefetch.ts';

async function* items(n: number, failAt?: number): AsyncGenerator<{ stored: number; i: number }> {
  for (let i = 0; i < n; i++) {
    await Promise.resolve();
    if (i === failAt) throw new Error(`source failed at ${i}`);
    yield { stored: 10, i };
  }
}

async function collect(p: Prefetch<{ stored: number; i: number }>): Promise<number[]> {
  const out: number[] = [];
  for await (const item of p) out.push(item.i);
  return out;
}

describe('Prefetch', () => {
  it('yields what it read ahead, then the rest, in order', async () => {
    for (const budget of [0, 1, 35, 1000]) {
      const p = new Prefetch(items(10), budget);
      await p.fill();
      assert.deepEqual(await collect(p), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], `budget ${budget}`);
    }
  });

  it('works without a fill', async () => {
    assert.deepEqual(await collect(new Prefetch(items(3), 100)), [0, 1, 2]);
  });

  it('hands over what it read before a failure, then throws it', async () => {
    const p = new Prefetch(items(10, 4), 1000);
    await p.fill();
    const seen: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const item of p) seen.push(item.i);
      })(),
      /source failed at 4/,
    );
    assert.deepEqual(seen, [0, 1, 2, 3]);
  });

  it('a failure past the read-ahead comes through iteration', async () => {
    const p = new Prefetch(items(10, 6), 20);
    await p.fill();
    await assert.rejects(collect(p), /source failed at 6/);
  });

  it('close stops the source', async () => {
    let finished = false;
    async function* source(): AsyncGenerator<{ stored: number }> {
      try {
        for (;;) {
          await Promise.resolve();
          yield { stored: 1 };
        }
      } finally {
        finished = true;
      }
    }
    const p = new Prefetch(source(), 5);
    await p.fill();
    await p.close();
    assert.equal(finished, true);
  });
});
