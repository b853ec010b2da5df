import { parseArgs } from 'node:util';
import { UsageError, type Command } from '../cli/command.ts';
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
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port: "${values.port}" is not a port number (0-65535)`);
    const server = await startVraServer({ port, dataDir: values['data-dir'], ...(values.host !== undefined && { host: values.host }) });
    process.stdout.write(`vra: listening on ${server.url}, data in ${values['data-dir']}\n`);
    await new Promise<void>((resolve) => {
      const stop = (): void => void server.close().then(resolve);
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    return 0;
  },
};
