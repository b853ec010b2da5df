import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WritePipeline } from './write-pipeline.ts';

/** A write the test finishes by hand, recording when it started. */
class Gate {
  readonly started: string[] = [];
  private readonly open = new Map<string, () => void>();
  private readonly failures = new Map<string, (err: Error) => void>();

  run(name: string): () => Promise<void> {
    return () => {
      this.started.push(name);
      return new Promise<void>((resolve, reject) => {
        this.open.set(name, resolve);
        this.failures.set(name, reject);
      });
    };
  }

  finish(name: string): void {
    const f = this.open.get(name);
    assert.ok(f !== undefined, `${name} has not started`);
    f();
  }

  fail(name: string, err: Error): void {
    const f = this.failures.get(name);
    assert.ok(f !== undefined, `${name} has not started`);
    f(err);
  }
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('WritePipeline', () => {
  it('runs writes to different files and to separate ranges of one file at once', async () => {
    const g = new Gate();
    const p = new WritePipeline({ maxWrites: 8 });
    await p.write('a', 0, 10, g.run('a0'));
    await p.write('b', 0, 10, g.run('b0'));
    await p.write('a', 10, 10, g.run('a10'));
    await turn();
    assert.deepEqual(g.started, ['a0', 'b0', 'a10']);
    for (const n of g.started) g.finish(n);
    await p.drain();
  });

  it('starts a write after every earlier overlapping write to the same file, in order', async () => {
    const g = new Gate();
    const p = new WritePipeline({ maxWrites: 8 });
    await p.write('a', 0, 10, g.run('first'));
    await p.write('a', 5, 10, g.run('second')); // overlaps first
    await p.write('a', 14, 1, g.run('third')); // overlaps second only
    await p.write('b', 0, 10, g.run('other'));
    await turn();
    assert.deepEqual(g.started, ['first', 'other']);
    g.finish('first');
    await turn();
    assert.deepEqual(g.started, ['first', 'other', 'second']);
    g.finish('second');
    await turn();
    assert.deepEqual(g.started, ['first', 'other', 'second', 'third']);
    g.finish('third');
    g.finish('other');
    await p.drain();
  });

  it('holds at most maxWrites and maxBytes in flight, but lets one larger write through alone', async () => {
    const g = new Gate();
    const p = new WritePipeline({ maxWrites: 2, maxBytes: 100 });
    await p.write('a', 0, 10, g.run('1'));
    await p.write('b', 0, 10, g.run('2'));
    let third = false;
    const admitted = p.write('c', 0, 10, g.run('3')).then(() => (third = true));
    await turn();
    assert.equal(third, false, 'a third write waits for a slot');
    g.finish('1');
    await admitted;
    assert.equal(third, true);
    g.finish('2');
    g.finish('3');
    await p.drain();
    await p.write('big', 0, 500, g.run('big'));
    let small = false;
    const next = p.write('d', 0, 1, g.run('small')).then(() => (small = true));
    await turn();
    assert.equal(small, false, 'nothing joins a write over maxBytes');
    g.finish('big');
    await next;
    g.finish('small');
    await p.drain();
  });

  it('throws a failed write from the next write and from drain, and starts nothing after it', async () => {
    const g = new Gate();
    const p = new WritePipeline({ maxWrites: 4 });
    await p.write('a', 0, 10, g.run('fails'));
    await p.write('a', 0, 10, g.run('waits on it'));
    g.fail('fails', new Error('EIO: disk gone'));
    await turn();
    assert.deepEqual(g.started, ['fails'], 'the overlapping write never starts');
    await assert.rejects(p.write('b', 0, 1, g.run('later')), /EIO: disk gone/);
    await assert.rejects(p.drain(), /EIO: disk gone/);
    await p.settle();
    assert.deepEqual(g.started, ['fails']);
  });

  it('settle waits for writes in flight without throwing', async () => {
    const g = new Gate();
    const p = new WritePipeline();
    await p.write('a', 0, 1, g.run('ok'));
    await p.write('b', 0, 1, g.run('bad'));
    let settled = false;
    const s = p.settle().then(() => (settled = true));
    g.fail('bad', new Error('ENOSPC'));
    await turn();
    assert.equal(settled, false, 'one write is still in flight');
    g.finish('ok');
    await s;
    await assert.rejects(p.drain(), /ENOSPC/);
  });
});
