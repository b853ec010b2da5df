import { parseArgs } from 'node:util';
import { parsePort, untilStopSignal } from '../cli/args.ts';
import type { Command } from '../cli/command.ts';
import { startVraServer } from './server.ts';

const help = `usage: zcsp vra [--port N] [--host ADDR] [--data-dir DIR]

The replication appliance of one node: run by a Site's controller as a pod pinned to the node.
For now it answers health checks and reports what it serves; the replication pipeline plugs in here.
  GET /healthz  200 "ok" while the process runs
  GET /readyz   200 once the data directory is usable
  GET /         JSON: node, site, data directory`;

export const vraCommand: Command = {
  name: 'vra',
  summary: 'run a node\'s replication appliance',
  async run(args) {
    const { values } = parseArgs({
      args: [...args],
      options: {
        port: { type: 'string', default: '9440' },
        host: { type: 'string' },
        'data-dir': { type: 'string', default: '/var/lib/zcsp/vra' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
    if (values.help === true) {
      process.stdout.write(help + '\n');
      return 0;
    }
    const port = parsePort('port', values.port);
    const server = await startVraServer({ port, dataDir: values['data-dir'], ...(values.host !== undefined && { host: values.host }) });
    process.stdout.write(`vra: listening on ${server.url}, data in ${values['data-dir']}\n`);
    await untilStopSignal();
    await server.close();
    return 0;
  },
};
