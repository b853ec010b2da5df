import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TouchMap, dropSubtree, type Seen } from './fs-scan.ts';

const file = (size: number, nlink = 1, inode = `f${size}`): Seen => ({ type: 'file', inode, size, mtimeNs: 1n, ctimeNs: 1n, mode: 0o644, nlink });
const dir = (inode: string): Seen => ({ type: 'dir', inode, size: 4096, mtimeNs: 1n, ctimeNs: 1n, mode: 0o755, nlink: 2 });
const link = (): Seen => ({ type: 'symlink', inode: 'l', size: 3, mtimeNs: 1n, ctimeNs: 1n, mode: 0o777, nlink: 1, target: 'a/b' });

/** What the kept figures must equal: worked out from the entries. */
function recount(m: TouchMap): { fileBytes: number; linked: string[] } {
  let fileBytes = 0;
  const linked: string[] = [];
  for (const [p, s] of m) {
    if (s.type !== 'file') continue;
    fileBytes += s.size;
    if (s.nlink > 1) linked.push(p);
  }
  return { fileBytes, linked: linked.sort() };
}

function check(m: TouchMap): void {
  assert.deepEqual({ fileBytes: m.fileBytes, linked: [...m.linked].sort() }, recount(m));
}

describe('TouchMap', () => {
  it('keeps file bytes and the files with several names as entries are set, replaced and deleted', () => {
    const m = new TouchMap();
    m.set('a', dir('1'));
    m.set('a/x', file(100));
    m.set('a/y', file(50, 2));
    m.set('a/l', link());
    check(m);
    assert.equal(m.fileBytes, 150);
    m.set('a/x', file(70)); // grew smaller
    m.set('a/y', file(50, 1)); // lost its other name
    m.set('a/z', file(5, 3));
    check(m);
    m.set('a/z', dir('9')); // a file became a folder
    m.set('a/l', file(8, 2)); // a symlink became a file with two names
    check(m);
    m.delete('a/l');
    m.delete('nothing');
    check(m);
    m.set('a/q', file(1, 2));
    dropSubtree(m, 'a');
    check(m);
    assert.equal(m.size, 0);
    assert.equal(m.fileBytes, 0);
    m.set('b', file(3, 2));
    m.clear();
    check(m);
    assert.ok(m.touched.has('b'), 'clearing touches what it removed');
  });

  it('says when a folder came, went or was replaced, and not for files', () => {
    const m = new TouchMap();
    m.set('a', dir('1'));
    assert.equal(m.foldersChanged, true);
    m.foldersChanged = false;
    m.set('a', dir('1')); // the same folder looked at again
    m.set('a/x', file(1));
    m.set('a/x', file(2));
    m.delete('a/x');
    assert.equal(m.foldersChanged, false);
    m.set('a', dir('2')); // replaced by another folder (a rename over it)
    assert.equal(m.foldersChanged, true);
    m.foldersChanged = false;
    m.set('b', file(1));
    m.set('b', dir('3'));
    assert.equal(m.foldersChanged, true);
    m.foldersChanged = false;
    m.delete('b');
    assert.equal(m.foldersChanged, true);
    m.foldersChanged = false;
    m.clear();
    assert.equal(m.foldersChanged, true);
  });
});
