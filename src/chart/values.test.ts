import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { VALUES_SCHEMA_FILE, renderValuesSchema } from './generate.ts';
import { ChartValues, chartDefaults, valuesJsonSchema } from './values.ts';

const valuesFile = new URL('../../deploy/helm/zcsp/values.yaml', import.meta.url);
const defaults = (): Record<string, unknown> => parse(readFileSync(valuesFile, 'utf8')) as Record<string, unknown>;

interface SchemaNode {
  default?: unknown;
  properties?: Record<string, SchemaNode>;
}

/** Every `default` of a JSON schema, by the path of keys that leads to it. */
function schemaDefaults(node: SchemaNode, path: string[] = []): [string[], unknown][] {
  const own: [string[], unknown][] = 'default' in node ? [[path, node.default]] : [];
  return [...own, ...Object.entries(node.properties ?? {}).flatMap(([k, child]) => schemaDefaults(child, [...path, k]))];
}

const at = (value: unknown, path: readonly string[]): unknown =>
  path.reduce<unknown>((v, k) => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined), value);

describe('chart values', () => {
  it('the committed values.schema.json is what `npm run gen` makes', () => {
    assert.equal(readFileSync(VALUES_SCHEMA_FILE, 'utf8'), renderValuesSchema(), 'run `npm run gen` and commit the result');
  });

  it('the chart defaults satisfy the schema', () => {
    const result = ChartValues.safeParse(defaults());
    assert.ok(result.success, result.error?.message);
  });

  it('values.yaml says exactly what the schema\'s defaults say', () => {
    assert.deepEqual(defaults(), chartDefaults());
  });

  it('every default in values.schema.json is the value values.yaml has there', () => {
    const found = schemaDefaults(valuesJsonSchema());
    assert.ok(found.length > 30, `only ${found.length} defaults in the JSON schema`);
    for (const [path, value] of found) assert.deepEqual(at(defaults(), path), value, path.join('.'));
  });

  it('rejects unknown keys at every level, naming them', () => {
    const bad = ChartValues.safeParse({ ...defaults(), manager: { ...(defaults()['manager'] as object), wrokers: 2 } });
    assert.equal(bad.success, false);
    assert.match(bad.error.message, /wrokers/);
  });

  it('a key that is not a label key is refused by name, in the map that has it', () => {
    const schema = JSON.stringify(valuesJsonSchema());
    assert.doesNotMatch(schema, /propertyNames/, 'helm reports a propertyNames failure at some other field');
    const bad = ChartValues.safeParse({ podLabels: { 'team name': 'dr' } });
    assert.equal(bad.success, false);
    assert.deepEqual(bad.error.issues[0]?.path, ['podLabels', 'team name']);
  });

  it('refuses a session of no time, and a tag in the repository', () => {
    for (const [values, path] of [
      [{ console: { sessionTtl: '0s' } }, ['console', 'sessionTtl']],
      [{ console: { sessionIdle: '0m0s' } }, ['console', 'sessionIdle']],
      [{ image: { repository: 'ghcr.io/zcsp/zcsp:0.1.0' } }, ['image', 'repository']],
      [{ resources: { limits: { memory: '1.2.3Gi' } } }, ['resources', 'limits', 'memory']],
    ] as const) {
      const result = ChartValues.safeParse(values);
      assert.equal(result.success, false, JSON.stringify(values));
      assert.deepEqual(result.error.issues[0]?.path, path);
    }
    assert.ok(ChartValues.safeParse({ console: { sessionTtl: '1h30m', sessionIdle: '90s' }, image: { repository: 'localhost:5000/zcsp' } }).success);
  });
});
