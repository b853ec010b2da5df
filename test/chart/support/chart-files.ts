// The chart's own files as the tests read them: its default values and its metadata.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const CHART = fileURLToPath(new URL('../../../deploy/helm/zcsp', import.meta.url));

export function chartValuesFile(): Record<string, unknown> {
  return parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>;
}

export interface ChartMetadata {
  name: string;
  version: string;
  appVersion: string;
}

export function chartMetadata(): ChartMetadata {
  return parse(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as ChartMetadata;
}
