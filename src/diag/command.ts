import { parseArgs } from 'node:util';
import { parsePort, untilStopSignal } from '../cli/args.ts';
import { UsageError, type Command } from '../cli/command.ts';
import { startDiagServer } from './server.ts';

const help = `usage: zcsp diag [--port N] [--host ADDR] [--stamp FILE [--stamp-every SECONDS]]

A small HTTP server for checking a node's pod networking and volumes:
  GET /healthz   200 "ok"
  GET /          JSON: pod identity (POD_NAME, POD_NAMESPACE, NODE_NAME, POD_IP), uptime, stamp
--stamp FILE writes a JSON stamp into FILE at start (proves the volume is mounted and writable)
and fails the start if it cannot. --stamp-every rewrites it that often (a new seq and time), so
the volume keeps changing and a recovered copy shows which moment it holds.`;

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
        'stamp-every': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
    if (values.help === true) {
      process.stdout.write(help + '\n');
      return 0;
    }
    const port = parsePort('port', values.port);
    let stampEveryMs: number | undefined;
    if (values['stamp-every'] !== undefined) {
      const seconds = Number(values['stamp-every']);
      if (!(seconds >= 0.1 && seconds <= 86400)) throw new UsageError(`--stamp-every: ${JSON.stringify(values['stamp-every'])} is not a number of seconds between 0.1 and 86400`);
      if (values.stamp === undefined) throw new UsageError('--stamp-every needs --stamp FILE');
      stampEveryMs = Math.round(seconds * 1000);
    }
    const server = await startDiagServer({
      port,
      ...(values.host !== undefined && { host: values.host }),
      ...(values.stamp !== undefined && { stampFile: values.stamp }),
      ...(stampEveryMs !== undefined && { stampEveryMs }),
    });
    process.stdout.write(`diag: listening on ${server.url}\n`);
    await untilStopSignal();
    process.stdout.write('diag: shutting down\n');
    await server.close();
    return 0;
  },
};
