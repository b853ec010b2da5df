import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ReverseIndex } from './reverse-index.ts';

describe('ReverseIndex', () => {
  it('maps keys back to the owners that refer to them, following changes', () => {
    const index = new ReverseIndex();
    index.set('acme', ['a-prod', 'shared']);
    index.set('globex', ['shared', 'g-prod', 'g-prod']);
    assert.deepEqual(index.owners('shared'), ['acme', 'globex']);
    assert.deepEqual(index.keys('globex'), ['shared', 'g-prod']);
    index.set('acme', ['a-test']);
    assert.deepEqual(index.owners('a-prod'), []);
    assert.deepEqual(index.owners('shared'), ['globex']);
    index.delete('globex');
    assert.deepEqual(index.owners('shared'), []);
    assert.deepEqual(index.owners('a-test'), ['acme']);
  });
});
