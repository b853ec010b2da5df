// `helm lint --strict` (warnings fail too) on the defaults and on every value set of the template
// table, which includes every option on and everything off. Lint renders in a mode where `fail` and
// `required` only log, so the checks of templates/validate.yaml are tested with `helm template`
// (bad-values.test.ts); the schema it does apply.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CHART } from './support/chart-files.ts';
import { runHelm, valuesFile, type HelmResult } from './support/helm.ts';
import { limit } from './support/limit.ts';
import { VALUE_SETS } from './value-sets.ts';

const slot = limit(4);
const lint = (values?: unknown): Promise<HelmResult> =>
  slot(() => runHelm(['lint', CHART, '--strict', ...(values === undefined ? [] : ['-f', '-'])], values === undefined ? undefined : valuesFile(values)));

const clean = (result: HelmResult): void => {
  assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  assert.doesNotMatch(result.stdout, /\[(WARNING|ERROR)\]/);
  // What lint mode only logs: a `fail` or `required` of the templates.
  assert.doesNotMatch(result.stderr, /level=(WARN|ERROR)|funcMap fail/);
};

const runs = new Map(VALUE_SETS.map((set) => [set.name, lint(set.values)]));

describe('helm lint --strict', () => {
  it('the defaults', async () => clean(await lint()));
  for (const set of VALUE_SETS) {
    it(set.name, async () => {
      const run = runs.get(set.name);
      assert.ok(run !== undefined);
      clean(await run);
    });
  }
  it('fails on values the schema refuses', async () => {
    const result = await lint({ replicaCount: 0 });
    assert.notEqual(result.code, 0);
    assert.match(result.stdout + result.stderr, /replicaCount/);
  });
});
