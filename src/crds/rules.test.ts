import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { toOpenApi } from './openapi.ts';
import { immutable, withRules } from './rules.ts';

describe('withRules', () => {
  const pair = withRules(z.strictObject({
    a: z.int().describe('a'),
    b: immutable(z.int().describe('b'), 'b is fixed'),
  }), [
    { cel: 'self.a < self.b', message: 'a must be below b', field: ['a'], check: (p) => p.a < p.b },
    { cel: 'self.a == oldSelf.a', message: 'a is fixed', transition: true },
  ]).describe('a pair');

  it('gives the API server the CEL, with the field and message', () => {
    const schema = toOpenApi(pair);
    assert.deepEqual(schema['x-kubernetes-validations'], [
      { rule: 'self.a < self.b', message: 'a must be below b', fieldPath: '.a' },
      { rule: 'self.a == oldSelf.a', message: 'a is fixed' },
    ]);
    const b = (schema['properties'] as Record<string, Record<string, unknown>>)['b'];
    assert.deepEqual(b?.['x-kubernetes-validations'], [{ rule: 'self == oldSelf', message: 'b is fixed' }]);
    assert.equal(schema['description'], 'a pair', 'the description survives the rules');
  });

  it('gives zod the same check, at the same field; transition rules only the API server can run', () => {
    assert.equal(pair.safeParse({ a: 1, b: 2 }).success, true);
    const result = pair.safeParse({ a: 2, b: 1 });
    assert.equal(result.success, false);
    assert.deepEqual(result.error.issues.map((i) => [i.path, i.message]), [[['a'], 'a must be below b']]);
  });

  it('skips the checks when a field is already wrong', () => {
    const result = pair.safeParse({ a: 2, b: 1, c: 0 });
    assert.deepEqual(result.error?.issues.map((i) => i.code), ['unrecognized_keys']);
  });
});
