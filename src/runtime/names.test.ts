import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { childName } from './names.ts';

describe('childName', () => {
  it('joins parts, and cuts long names with a hash that keeps them unique and stable', () => {
    assert.equal(childName(['db', 'journal']), 'db-journal');
    const long = childName(['a'.repeat(60), 'journal']);
    assert.equal(long.length, 63);
    assert.match(long, /^a+-[0-9a-f]{8}$/);
    assert.equal(childName(['a'.repeat(60), 'journal']), long);
    assert.notEqual(childName(['a'.repeat(60), 'journal2']), long);
  });
});
