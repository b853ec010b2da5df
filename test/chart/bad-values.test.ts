// The chart refuses bad values (test/chart/bad-values.ts) before rendering anything, given as a
// values file or with --set, and says which field is wrong; the zod schema values.schema.json is
// generated from refuses them at the same place.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ChartValues } from '../../src/chart/values.ts';
import { BAD_VALUES, type BadValue } from './bad-values.ts';
import { CHART, chartValuesFile } from './support/chart-files.ts';
import { coalesce } from './support/coalesce.ts';
import { runHelm, setFlags, valuesFile, type HelmResult } from './support/helm.ts';
import { limit } from './support/limit.ts';

const slot = limit(4);
const template = (bad: BadValue, args: string[], input?: string): Promise<HelmResult> =>
  slot(() => runHelm(['template', bad.release ?? 'zcsp', CHART, '--namespace', 'zcsp-system', ...args], input));

// Every run starts now; each test awaits its own.
const runs = new Map(BAD_VALUES.map((bad) => [bad, {
  file: template(bad, ['-f', '-'], valuesFile(bad.values)),
  set: template(bad, setFlags(bad.values)),
}]));

const refused = (result: HelmResult, bad: BadValue): void => {
  assert.notEqual(result.code, 0, `helm rendered it:\n${result.stdout.slice(0, 500)}`);
  assert.equal(result.stdout, '', 'nothing is rendered');
  assert.match(result.stderr, bad.error);
};

/** A JSON pointer, as helm's schema errors name the field. */
const pointer = (path: readonly PropertyKey[]): string => path.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

describe('chart refuses bad values', () => {
  it('and renders the defaults through the same runner', async () => {
    const result = await runHelm(['template', 'zcsp', CHART, '--namespace', 'zcsp-system']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /kind: Deployment/);
  });

  it('over a table of at least 25 cases, each named once', () => {
    assert.ok(BAD_VALUES.length >= 25);
    assert.equal(new Set(BAD_VALUES.map((b) => b.name)).size, BAD_VALUES.length);
  });

  for (const bad of BAD_VALUES) {
    describe(bad.name, () => {
      const run = runs.get(bad);
      assert.ok(run !== undefined);
      it('refused in a values file', async () => refused(await run.file, bad));
      it(`refused with ${setFlags(bad.values).join(' ') || `release ${bad.release ?? ''}`}`, async () => refused(await run.set, bad));
      if (bad.by === 'schema') {
        it('refused by the zod schema at the field helm names', async () => {
          const parsed = ChartValues.safeParse(coalesce(chartValuesFile(), bad.values));
          assert.ok(!parsed.success, 'the zod schema accepts it');
          const at = /at '([^']*)'/.exec((await run.file).stderr)?.[1];
          assert.ok(at !== undefined, 'helm names a field');
          const paths = parsed.error.issues.map((i) => pointer(i.path));
          assert.ok(paths.some((p) => p === at || p.startsWith(`${at}/`)), `zod's issues at ${paths.join(', ')}; helm's at ${at}`);
        });
      } else if (bad.by === 'required') {
        it('a key the schema requires, which zod fills with its default', () => {
          assert.ok(ChartValues.safeParse(coalesce(chartValuesFile(), bad.values)).success);
        });
      } else {
        it('passes the schema alone: the templates check it', () => {
          assert.ok(ChartValues.safeParse(coalesce(chartValuesFile(), bad.values)).success);
        });
      }
    });
  }
});
