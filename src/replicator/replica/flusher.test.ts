import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Flusher, syncFileData } from './flusher.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'flusher-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A sync that records what it was given and how many ran at once, and ends when told to. */
function watched(): { sync: (path: string) => Promise<void>; synced: string[]; most: () => number; release: () => void } {
  const synced: string[] = [];
  const waiting: (() => void)[] = [];
  let running = 0;
  let most = 0;
  const sync = async (path: string): Promise<void> => {
    running++;
    most = Math.max(most, running);
    await new Promise<void>((resolve) => waiting.push(resolve));
    synced.push(path);
    running--;
  };
  return { sync, synced, most: () => most, release: () => waiting.splice(0).forEach((r) => r()) };
}

describe('Flusher', () => {
  it('flushes every file added, at most `concurrency` at once', async () => {
    const w = watched();
    const f = new Flusher(3, w.sync);
    for (let i = 0; i < 10; i++) f.add(`f${i}`);
    const done = f.done();
    while (w.synced.length < 10) {
      await new Promise((r) => setImmediate(r));
      w.release();
    }
    await done;
    assert.deepEqual([...w.synced].sort(), Array.from({ length: 10 }, (_, i) => `f${i}`).sort());
    assert.equal(w.most(), 3);
  });

  it('takes files added after done() was first called, and is done again with none queued', async () => {
    const w = watched();
    const f = new Flusher(2, w.sync);
    await f.done();
    f.add('a');
    setImmediate(w.release);
    await f.done();
    f.add('b');
    setImmediate(w.release);
    await f.done();
    assert.deepEqual(w.synced, ['a', 'b']);
  });

  it('reports the first failure with its path, and flushes nothing after it', async () => {
    const synced: string[] = [];
    const f = new Flusher(1, (path) => {
      if (path === 'bad') return Promise.reject(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
      synced.push(path);
      return Promise.resolve();
    });
    f.add('good');
    f.add('bad');
    f.add('later');
    await assert.rejects(f.done(), (err: Error) => {
      assert.match(err.message, /^flushing bad to disk: EIO: i\/o error, fsync$/);
      assert.equal((err.cause as NodeJS.ErrnoException).code, 'EIO');
      return true;
    });
    f.add('after');
    await assert.rejects(f.done(), /flushing bad/);
    assert.deepEqual(synced, ['good']);
  });

  it('drops what is queued on cancel; flushes in flight still end', async () => {
    const w = watched();
    const f = new Flusher(1, w.sync);
    f.add('first');
    f.add('second');
    f.cancel();
    setImmediate(w.release);
    await f.done();
    assert.deepEqual(w.synced, ['first']);
  });

  it('syncs real files, and passes over a path that was renamed, removed or replaced since', async () => {
    const dir = join(root, 'real');
    await mkdir(dir);
    await writeFile(join(dir, 'kept'), 'data');
    await writeFile(join(dir, 'moved'), 'data');
    await rename(join(dir, 'moved'), join(dir, 'moved-to'));
    await symlink('kept', join(dir, 'now-a-link'));
    await writeFile(join(dir, 'plain'), 'x');
    const f = new Flusher(2);
    for (const name of ['kept', 'moved', 'now-a-link', 'plain/under-a-file', 'never-was']) f.add(join(dir, name));
    await f.done();
    await syncFileData(join(dir, 'kept'));
  });

  it('fails on an error other than the path being gone (here a name too long to open)', async () => {
    const f = new Flusher(1);
    f.add(join(root, 'x'.repeat(300)));
    await assert.rejects(f.done(), (err: Error) => {
      assert.match(err.message, /^flushing .*x{300} to disk: ENAMETOOLONG/);
      return true;
    });
  });
});
