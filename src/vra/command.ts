import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parsePort, untilStopSignal } from '../cli/args.ts';
import type { Command } from '../cli/command.ts';
import { createLogger } from '../runtime/logger.ts';
import { startVra, VraStartError } from './serve.ts';

const help = `usage: zcsp vra [options]

The replication appliance of one node (run by a Site's controller as a pod pinned to the node).
It captures and ships the volumes of the VPGs protected on this node, and journals, keeps the
replicas of and recovers the VPGs replicated to it.

  --data-dir DIR            journals, replicas, its TLS identity (default /var/lib/zcsp/vra)
  --host ADDR               address to listen on (default all)
  --port N                  replication port, TLS (default 9440)
  --control-port N          control API for the operator, HTTPS + bearer token (default 9441)
  --health-port N           /healthz, /readyz, /metrics, plain HTTP (default 9442)
  --control-token-file F    the operator's bearer token (default /etc/zcsp/vra/token)
  --node NAME               this node (default $NODE_NAME)
  --site NAME               this node's site (default $ZCSP_SITE)
  --materialise-root DIR    a folder recoveries may write into; repeatable (default DATA_DIR/restore)`;

export const vraCommand: Command = {
  name: 'vra',
  summary: 'run a node\'s replication appliance',
  async run(args) {
    const { values } = parseArgs({
      args: [...args],
      options: {
        'data-dir': { type: 'string', default: '/var/lib/zcsp/vra' },
        host: { type: 'string' },
        port: { type: 'string', default: '9440' },
        'control-port': { type: 'string', default: '9441' },
        'health-port': { type: 'string', default: '9442' },
        'control-token-file': { type: 'string', default: '/etc/zcsp/vra/token' },
        node: { type: 'string' },
        site: { type: 'string' },
        'materialise-root': { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
    if (values.help === true) {
      process.stdout.write(help + '\n');
      return 0;
    }
    const dataDir = values['data-dir'];
    const log = createLogger({ name: 'zcsp-vra' });
    let vra;
    try {
      vra = await startVra({
        dataDir,
        ...(values.host !== undefined && { host: values.host }),
        port: parsePort('port', values.port),
        controlPort: parsePort('control-port', values['control-port']),
        healthPort: parsePort('health-port', values['health-port']),
        controlTokenFile: values['control-token-file'],
        node: values.node ?? process.env['NODE_NAME'] ?? 'unknown',
        site: values.site ?? process.env['ZCSP_SITE'] ?? 'unknown',
        materialiseRoots: values['materialise-root'] ?? [join(dataDir, 'restore')],
        log,
      });
    } catch (err: unknown) {
      if (err instanceof VraStartError) {
        process.stderr.write(`zcsp vra: ${err.message}\n`);
        return 2;
      }
      throw err;
    }
    process.stdout.write(`vra: replication on port ${vra.replicationPort}, control ${vra.controlUrl}, health ${vra.healthUrl}\n`);
    const signal = await untilStopSignal();
    log.info({ signal }, 'stopping');
    await vra.close();
    return 0;
  },
};
