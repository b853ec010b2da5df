import { readFileSync } from 'node:fs';
import type { Command } from './command.ts';

/** The package version, read once from package.json (shipped beside src/ and dist/). */
export const version: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export const versionCommand: Command = {
  name: 'version',
  summary: 'print the version',
  run() {
    process.stdout.write(`zcsp ${version} (node ${process.version})\n`);
    return Promise.resolve(0);
  },
};
