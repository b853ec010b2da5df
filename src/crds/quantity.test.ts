import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QUANTITY_PATTERN, compareQuantities } from './quantity.ts';

describe('compareQuantities', () => {
  it('compares across suffixes exactly, as the API server\'s quantity() does', () => {
    const cases: [string | number, string | number, number][] = [
      ['1Gi', 1073741824, 0],
      ['1Gi', '1073741825', -1],
      ['1.5Gi', '1536Mi', 0],
      ['100m', '0.1', 0],
      ['1500m', 2, -1],
      ['1e3', '1k', 0],
      ['1E-2', '10m', 0],
      ['1M', '1Mi', -1],
      ['150Gi', '115Gi', 1],
      ['10000Mi', '10Gi', -1],
      ['0', 0, 0],
      ['+5', 5, 0],
      ['.5', '500m', 0],
    ];
    for (const [a, b, expected] of cases) assert.equal(compareQuantities(a, b), expected, `${a} vs ${b}`);
  });

  it('refuses what is not a non-negative quantity', () => {
    for (const bad of ['-1Gi', '10 GB', '1GB', '', 'Gi', '1.2.3']) {
      assert.equal(QUANTITY_PATTERN.test(bad), false, bad);
      assert.throws(() => compareQuantities(bad, 1), /not a quantity/);
    }
  });
});
