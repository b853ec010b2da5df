import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { byDepth, depth } from './paths.ts';

describe('path depth', () => {
  it('counts the slashes of a volume path', () => {
    assert.deepEqual(['', 'a', 'a/b', 'a/b/c'].map(depth), [0, 0, 1, 2]);
  });

  it('groups paths by depth, shallowest first, the root before everything, order kept within a level', () => {
    assert.deepEqual(byDepth(['a/b/c', 'x', 'a/b', '', 'y', 'z/w']), [[''], ['x', 'y'], ['a/b', 'z/w'], ['a/b/c']]);
    assert.deepEqual(byDepth([]), []);
  });
});
