import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { secretDigest, secretMatchesDigest, secretsEqual } from './secrets.ts';

describe('secrets', () => {
  it('compares a secret with the expected one, or with its stored digest', () => {
    assert.equal(secretsEqual('a-token', 'a-token'), true);
    assert.equal(secretsEqual('a-token', 'another'), false);
    assert.equal(secretsEqual('', ''), false, 'an empty expected secret matches nothing');
    const stored = secretDigest('export-token');
    assert.match(stored, /^[0-9a-f]{64}$/);
    assert.equal(secretMatchesDigest('export-token', stored), true);
    assert.equal(secretMatchesDigest('export-token ', stored), false);
    assert.equal(secretMatchesDigest('export-token', 'not hex'), false, 'a damaged digest matches nothing');
  });
});
