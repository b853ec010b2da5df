// The values a template sees, worked out as helm does it: the user's values over values.yaml, maps
// merged key by key, lists and scalars replaced, null removing the default. The template checks
// compare the manifests with these, so a value the templates drop or misplace shows.
import type { ChartValues } from '../../../src/chart/values.ts';
import { chartValuesFile } from './chart-files.ts';

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function coalesce(defaults: unknown, overrides: unknown): unknown {
  if (!isMap(defaults) || !isMap(overrides)) return overrides === undefined ? defaults : overrides;
  const keys = new Set([...Object.keys(defaults), ...Object.keys(overrides)]);
  return Object.fromEntries([...keys].filter((k) => overrides[k] !== null).map((k) => [k, coalesce(defaults[k], overrides[k])]));
}

/** What the templates get for these overrides; the schema has accepted them (or helm would not render). */
export function effectiveValues(overrides: unknown): ChartValues {
  return coalesce(chartValuesFile(), overrides) as ChartValues;
}
