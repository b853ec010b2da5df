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
});
