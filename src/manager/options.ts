// `zcsp manager` flags, parsed and checked in one place so a bad flag names itself.
import { parseArgs } from 'node:util';
import { UsageError } from '../cli/command.ts';

export interface ManagerFlags {
  httpPort: number;
  workers: number;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  leaderElect: boolean;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export const MANAGER_HELP = `usage: zcsp manager [options]

Runs the operator's controllers (Zorg, ServiceProfile, Site, ZCC). Reads POD_NAMESPACE (the
provider namespace) and ZCSP_IMAGE (the image of VRA and ZCC pods) from the environment, and
optionally ZCSP_IMAGE_PULL_POLICY and ZCSP_IMAGE_PULL_SECRETS (secret names, comma-separated) for
how those pods pull it; the Helm chart sets them all. Credentials: in-cluster, or KUBECONFIG
outside a cluster.

  --http-port N          /metrics, /healthz, /readyz (default 8080)
  --workers N            concurrent reconciles per controller (default 4)
  --log-level LEVEL      trace, debug, info, warn or error (default info)
  --leader-elect=false   run without a Lease (one replica only)
  --lease-duration S     seconds a leader's Lease lasts without renewal (default 15)
  --renew-deadline S     seconds the leader keeps trying to renew before it steps down (default 10)
  --retry-period S       seconds between tries to acquire or renew (default 2)`;

function integer(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${flag}: "${value}" must be a whole number from ${min} to ${max}`);
  return n;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;

/** Parses the flags; returns undefined for --help. */
export function parseManagerFlags(args: readonly string[]): ManagerFlags | undefined {
  const { values } = parseArgs({
    args: [...args],
    options: {
      'http-port': { type: 'string', default: '8080' },
      workers: { type: 'string', default: '4' },
      'log-level': { type: 'string', default: 'info' },
      'leader-elect': { type: 'string', default: 'true' },
      'lease-duration': { type: 'string', default: '15' },
      'renew-deadline': { type: 'string', default: '10' },
      'retry-period': { type: 'string', default: '2' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) return undefined;
  const logLevel = values['log-level'];
  if (!(LEVELS as readonly string[]).includes(logLevel)) throw new UsageError(`--log-level: "${logLevel}" must be one of ${LEVELS.join(', ')}`);
  if (values['leader-elect'] !== 'true' && values['leader-elect'] !== 'false') {
    throw new UsageError(`--leader-elect: "${values['leader-elect']}" must be true or false`);
  }
  const leaseDuration = integer('lease-duration', values['lease-duration'], 2, 300);
  const renewDeadline = integer('renew-deadline', values['renew-deadline'], 1, 299);
  const retryPeriod = integer('retry-period', values['retry-period'], 1, 60);
  // As client-go insists: a leader must give up before its Lease can expire under it, and retry
  // more than once within the deadline.
  if (renewDeadline >= leaseDuration) throw new UsageError(`--renew-deadline (${renewDeadline}) must be less than --lease-duration (${leaseDuration})`);
  if (retryPeriod >= renewDeadline) throw new UsageError(`--retry-period (${retryPeriod}) must be less than --renew-deadline (${renewDeadline})`);
  return {
    httpPort: integer('http-port', values['http-port'], 1, 65535),
    workers: integer('workers', values.workers, 1, 64),
    logLevel: logLevel as ManagerFlags['logLevel'],
    leaderElect: values['leader-elect'] === 'true',
    leaseDurationMs: leaseDuration * 1000,
    renewDeadlineMs: renewDeadline * 1000,
    retryPeriodMs: retryPeriod * 1000,
  };
}
