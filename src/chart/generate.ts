// Part of `npm run gen`: writes the chart's values.schema.json from the zod schema in values.ts.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { valuesJsonSchema } from './values.ts';

export const VALUES_SCHEMA_FILE = fileURLToPath(new URL('../../deploy/helm/zcsp/values.schema.json', import.meta.url));

export function renderValuesSchema(): string {
  return JSON.stringify(valuesJsonSchema(), null, 2) + '\n';
}

if (import.meta.main) {
  await writeFile(VALUES_SCHEMA_FILE, renderValuesSchema());
  process.stdout.write(`wrote ${VALUES_SCHEMA_FILE}\n`);
}
