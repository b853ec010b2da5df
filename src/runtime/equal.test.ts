import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, deepEqual, isSubset } from './equal.ts';

describe('deepEqual', () => {
  it('ignores key order and undefined keys, not list order', () => {
    assert.equal(deepEqual({ a: 1, b: { c: [1, { d: 2, e: 3 }] } }, { b: { c: [1, { e: 3, d: 2 }] }, a: 1 }), true);
    assert.equal(deepEqual({ a: 1, b: undefined }, { a: 1 }), true);
    assert.equal(deepEqual([1, 2], [2, 1]), false);
    assert.equal(deepEqual({ a: null }, { a: undefined }), false);
    assert.equal(deepEqual({ a: 1 }, { a: '1' }), false);
    assert.equal(deepEqual([], {}), false);
  });
});

describe('isSubset', () => {
  it('accepts defaults and other fields the live object has', () => {
    const applied = { metadata: { name: 'x', labels: { app: 'a' } }, data: { k: 'v' } };
    const live = { metadata: { name: 'x', uid: 'u', labels: { app: 'a', other: 'b' } }, data: { k: 'v', extra: 'e' } };
    assert.equal(isSubset(applied, live), true);
    assert.equal(isSubset({ data: { k: 'changed' } }, live), false);
    assert.equal(isSubset({ data: { missing: 'v' } }, live), false);
  });
  it('takes an empty map or list for a missing one (the API server omits them on built-in kinds)', () => {
    assert.equal(isSubset({ data: {}, items: [] }, { metadata: {} }), true);
    assert.equal(isSubset({ data: { k: 'v' } }, { metadata: {} }), false);
  });
  it('matches list items in order, each as a subset (defaults inside items)', () => {
    const desired = { containers: [{ name: 'a', image: 'i' }, { name: 'b', image: 'j' }] };
    const live = { containers: [{ name: 'a', image: 'i', imagePullPolicy: 'IfNotPresent' }, { name: 'x' }, { name: 'b', image: 'j' }] };
    assert.equal(isSubset(desired, live), true);
    assert.equal(isSubset({ containers: [{ name: 'b' }, { name: 'a' }] }, live), false);
    assert.equal(isSubset({ containers: [{ name: 'c' }] }, live), false);
  });
});

describe('canonicalJson', () => {
  it('gives one text per value', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [3, { f: 1, e: 2 }], c: undefined } }), '{"a":{"d":[3,{"e":2,"f":1}]},"b":1}');
  });
});
