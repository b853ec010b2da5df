import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ManifestEntry } from '../manifest.ts';
import { findRenames } from './fs-renames.ts';
import type { Seen } from './fs-scan.ts';

type Spec = [path: string, type: 'file' | 'dir' | 'symlink', inode: string];

function world(before: Spec[], after: Spec[]): Parameters<typeof findRenames> {
  const entries = new Map<string, ManifestEntry>();
  const recorded = new Map<string, { inode: string }>();
  for (const [p, type, inode] of before) {
    entries.set(p, type === 'file' ? { type, id: 1, mode: 0o644, size: 0, hashes: new Uint8Array() } : type === 'dir' ? { type, mode: 0o755 } : { type, target: 'x' });
    recorded.set(p, { inode });
  }
  const current = new Map<string, Seen>();
  for (const [p, type, inode] of after) current.set(p, { type, inode, size: 0, mtimeNs: 0n, ctimeNs: 0n, mode: 0o644, nlink: 1, ...(type === 'symlink' && { target: 'x' }) });
  return [entries, recorded, current];
}

describe('findRenames', () => {
  it('pairs a vanished path with a new one of the same inode and type', () => {
    assert.deepEqual(findRenames(...world([['a', 'file', '1']], [['b', 'file', '1']])), [{ from: 'a', to: 'b' }]);
    assert.deepEqual(findRenames(...world([['a', 'file', '1']], [['b', 'dir', '1']])), []);
    assert.deepEqual(findRenames(...world([['a', 'symlink', '1']], [['b', 'symlink', '1']])), []);
  });

  it('finds swaps: both paths still exist with each other\'s inode', () => {
    const pairs = findRenames(...world([['a', 'file', '1'], ['b', 'file', '2']], [['a', 'file', '2'], ['b', 'file', '1']]));
    assert.deepEqual(pairs.sort((x, y) => x.from.localeCompare(y.from)), [{ from: 'a', to: 'b' }, { from: 'b', to: 'a' }]);
  });

  it('leaves out children that move with their folder, keeps those that moved elsewhere', () => {
    const pairs = findRenames(
      ...world(
        [['d', 'dir', '1'], ['d/x', 'file', '2'], ['d/y', 'file', '3'], ['d/s', 'dir', '4'], ['d/s/z', 'file', '5']],
        [['e', 'dir', '1'], ['e/x', 'file', '2'], ['y', 'file', '3'], ['e/s', 'dir', '4'], ['e/s/z2', 'file', '5']],
      ),
    );
    assert.deepEqual(pairs, [{ from: 'd', to: 'e' }, { from: 'd/y', to: 'y' }, { from: 'd/s/z', to: 'e/s/z2' }]);
  });

  it('does not guess between hard links that vanished together', () => {
    assert.deepEqual(findRenames(...world([['a', 'file', '1'], ['b', 'file', '1']], [['c', 'file', '1']])), []);
  });

  it('ignores entries whose inode is not known (adopted)', () => {
    const [entries, , current] = world([['a', 'file', '1']], [['b', 'file', '1']]);
    assert.deepEqual(findRenames(entries, new Map(), current), []);
  });
});
