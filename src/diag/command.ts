import { parseArgs } from 'node:util';
import { parsePort, untilStopSignal } from '../cli/args.ts';
import type { Command } from '../cli/command.ts';
import { startDiagServer } from './server.ts';

const help = `usage: zcsp diag [--port N] [--host ADDR] [--stamp FILE]

A small HTTP server for checking a node's pod networking and volumes:
  GET /healthz   200 "ok"
  GET /          JSON: pod identity (POD_NAME, POD_NAMESPACE, NODE_NAME, POD_IP), uptime, stamp
--stamp FILE writes a JSON stamp into FILE at start (proves the volume is mounted and writable)
and fails the start if it cannot.`;

export const diagCommand: Command = {
  name: 'diag',
  summary: 'serve pod identity over HTTP and check a volume is writable',
  async run(args) {
    const { values } = parseArgs({
      args: [...args],
      options: {
        port: { type: 'string', default: '8080' },
        host: { type: 'string' },
        stamp: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
    if (values.help === true) {
      process.stdout.write(help + '\n');
      return 0;
    }
    const port = parsePort('port', values.port);
    const server = await startDiagServer({
      port,
      ...(values.host !== undefined && { host: values.host }),
      ...(values.stamp !== undefined && { stampFile: values.stamp }),
    });
    process.stdout.write(`diag: listening on ${server.url}\n`);
    await untilStopSignal();
    process.stdout.write('diag: shutting down\n');
    await server.close();
    return 0;
  },
};
