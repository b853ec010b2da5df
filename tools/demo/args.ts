// `npm run demo -- [options]`: parsed with node:util parseArgs; an unknown flag is an error that
// names it.
import { parseArgs } from 'node:util';

export interface DemoArgs {
  /** Apply examples/ after installing the operator (default); --no-examples: cluster and operator only. */
  examples: boolean;
  help: boolean;
}

export const USAGE = `usage: npm run demo [-- options]

Starts a local cluster (two sites of two simulated nodes), installs the operator with helm,
applies examples/ and shows live status until Ctrl-C, which tears everything down.

options:
  --no-examples   the cluster and the operator only; apply examples/ yourself with kubectl
  -h, --help      this text
`;

export class UsageError extends Error {
  constructor(message: string) {
    super(`${message}\n\n${USAGE}`);
    this.name = 'UsageError';
  }
}

export function parseDemoArgs(argv: readonly string[]): DemoArgs {
  let values: { 'no-examples'?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { 'no-examples': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err: unknown) {
    const text = err instanceof Error ? err.message : String(err);
    const flag = /option '([^']+)'/.exec(text)?.[1];
    const positional = /argument '([^']+)'/.exec(text)?.[1];
    if (flag !== undefined) throw new UsageError(`npm run demo: unknown option ${flag}`);
    if (positional !== undefined) throw new UsageError(`npm run demo: unexpected argument ${positional}`);
    throw new UsageError(`npm run demo: ${text}`);
  }
  return { examples: values['no-examples'] !== true, help: values.help === true };
}
