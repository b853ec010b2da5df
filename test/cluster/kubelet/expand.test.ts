import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expand, lookupIn } from './expand.ts';

const vars = lookupIn({ VAR_A: 'A', VAR_B: 'B', EMPTY: '' });

describe('expand', () => {
  // Cases from the kubelet's own expansion tests.
  const cases: Array<[string, string]> = [
    ['$(VAR_A)', 'A'],
    ['___$(VAR_A)___', '___A___'],
    ['$(VAR_A)-$(VAR_B)', 'A-B'],
    ['$(VAR_A)$(VAR_B)', 'AB'],
    ['$(EMPTY)x', 'x'],
    ['$(UNKNOWN)', '$(UNKNOWN)'],
    ['$$(VAR_A)', '$(VAR_A)'],
    ['$$$(VAR_A)', '$A'],
    ['$$$$(VAR_A)', '$$(VAR_A)'],
    ['$$', '$'],
    ['$', '$'],
    ['foo$', 'foo$'],
    ['$(VAR_A', '$(VAR_A'],
    ['$(VAR_A$(VAR_B)', '$(VAR_A$(VAR_B)'],
    ['$()', '$()'],
    ['$x', '$x'],
    ['$VAR_A', '$VAR_A'],
    ['${VAR_A}', '${VAR_A}'],
    ['no refs', 'no refs'],
    ['', ''],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(expand(input, vars), expected);
    });
  }

  it('looks names up in order', () => {
    const lookup = lookupIn(new Map([['X', 'first']]), { X: 'second', Y: 'y' });
    assert.equal(expand('$(X)/$(Y)', lookup), 'first/y');
  });
});
