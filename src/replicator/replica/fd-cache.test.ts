import assert from 'node:assert/strict';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FdCache } from './fd-cache.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'fd-cache-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('FdCache', () => {
  it('keeps at most `limit` files open, closing the least recently used, and reopens on demand', async () => {
    const cache = new FdCache({ limit: 2, syncOnClose: true });
    const opened: string[] = [];
    const get = (name: string) =>
      cache.get(name, () => {
        opened.push(name);
        return open(join(root, name), 'a+');
      });
    await (await get('a')).write('1');
    await (await get('b')).write('2');
    await (await get('a')).write('3'); // a is now the most recent
    await (await get('c')).write('4'); // evicts b
    assert.equal(cache.has('b'), false);
    assert.equal(cache.has('a'), true);
    await (await get('b')).write('5'); // reopens b, evicts a
    assert.deepEqual(opened, ['a', 'b', 'c', 'b']);
    await cache.closeAll();
    assert.equal(cache.has('c'), false);
    assert.equal(await readFile(join(root, 'a'), 'utf8'), '13');
    assert.equal(await readFile(join(root, 'b'), 'utf8'), '25');
    assert.equal(await readFile(join(root, 'c'), 'utf8'), '4');
  });

  it('reports an open that fails and stays usable', async () => {
    const cache = new FdCache({ limit: 2, syncOnClose: false });
    await assert.rejects(cache.get('x', () => open(join(root, 'missing/x'), 'r')), /ENOENT/);
    assert.equal(cache.has('x'), false);
    await cache.closeAll();
  });

  it('opens a file once for callers that ask for it at the same time', async () => {
    const cache = new FdCache({ limit: 4, syncOnClose: false });
    let opens = 0;
    const opener = () => {
      opens++;
      return open(join(root, 'shared'), 'a+');
    };
    const [a, b, c] = await Promise.all([cache.get('s', opener), cache.with('s', opener, (fh) => Promise.resolve(fh)), cache.get('s', opener)]);
    assert.equal(opens, 1);
    assert.equal(a, b);
    assert.equal(b, c);
    await cache.closeAll();
  });

  it('never closes a handle in use by `with`: it goes over the limit instead', async () => {
    const cache = new FdCache({ limit: 1, syncOnClose: false });
    const opener = (name: string) => () => open(join(root, name), 'a+');
    await cache.with('held', opener('held'), async (fh) => {
      const other = await cache.get('other', opener('other'));
      assert.equal(cache.has('held'), true, 'the handle in use stays open');
      await fh.write('still open');
      await other.write('x');
    });
    // Released: the next new key evicts the least recently used entry that is not in use.
    await cache.get('third', opener('third'));
    assert.equal(cache.has('held'), false);
    assert.equal(cache.has('other'), false);
    assert.equal(await readFile(join(root, 'held'), 'utf8'), 'still open');
    await cache.closeAll();
  });

  it('gives every caller of a failed open the failure and keeps no entry for it', async () => {
    const cache = new FdCache({ limit: 2, syncOnClose: true });
    let opens = 0;
    const failing = () => {
      opens++;
      return open(join(root, 'missing/y'), 'r');
    };
    const results = await Promise.allSettled([cache.get('y', failing), cache.with('y', failing, () => Promise.resolve('ran'))]);
    assert.equal(opens, 1);
    for (const r of results) assert.ok(r.status === 'rejected' && /ENOENT/.test(String(r.reason)), r.status);
    assert.equal(cache.has('y'), false);
    await cache.closeAll();
  });
});
