import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { VALUES_SCHEMA_FILE, renderValuesSchema } from './generate.ts';
import { ChartValues } from './values.ts';

const valuesFile = new URL('../../deploy/helm/zcsp/values.yaml', import.meta.url);

describe('chart values', () => {
  it('the committed values.schema.json is what `npm run gen` makes', () => {
    assert.equal(readFileSync(VALUES_SCHEMA_FILE, 'utf8'), renderValuesSchema(), 'run `npm run gen` and commit the result');
  });
  it('the chart defaults satisfy the schema', () => {
    const result = ChartValues.safeParse(parse(readFileSync(valuesFile, 'utf8')));
    assert.ok(result.success, result.error?.message);
  });
  it('rejects unknown keys at every level, naming them', () => {
    const defaults = parse(readFileSync(valuesFile, 'utf8')) as Record<string, unknown>;
    const bad = ChartValues.safeParse({ ...defaults, manager: { ...(defaults['manager'] as object), wrokers: 2 } });
    assert.equal(bad.success, false);
    assert.match(bad.error.message, /wrokers/);
  });
});
