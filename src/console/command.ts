// zcsp console: the web console's server.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parsePort, untilStopSignal } from '../cli/args.ts';
import { UsageError, type Command } from '../cli/command.ts';
import { parseDuration } from '../kubectl/args.ts';

const help = `usage: zcsp console [--port N] [--host ADDR] [--kubeconfig FILE] [--tls-cert FILE --tls-key FILE]
                    [--session-ttl DURATION] [--session-idle DURATION] [--public-url URL]

The web console's server. Users sign in with a Kubernetes token (checked by TokenReview); every
read and change is made with that token, so RBAC and the admission policy decide as for kubectl.
  --port          listen port (default 8080; plain HTTP behind the cluster's ingress, or HTTPS
                  when --tls-cert and --tls-key are given)
  --kubeconfig    the console's own credentials (default: in-cluster, else KUBECONFIG/~/.kube/config)
  --session-ttl   absolute session lifetime (default 8h), e.g. 30m, 8h
  --session-idle  a session ends after this long without requests (default 30m)
  --public-url    the console's address as browsers reach it: the base of one-time sign-in links;
                  https:// also marks the session cookie Secure`;

export const consoleCommand: Command = {
  name: 'console',
  summary: 'serve the web console (sign-in with Kubernetes tokens, VPGs, provider view)',
  async run(args) {
    const { values } = parseArgs({
      args: [...args],
      options: {
        port: { type: 'string', default: '8080' },
        host: { type: 'string' },
        kubeconfig: { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'session-ttl': { type: 'string', default: '8h' },
        'session-idle': { type: 'string', default: '30m' },
        'public-url': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
    if (values.help === true) {
      process.stdout.write(help + '\n');
      return 0;
    }
    const port = parsePort('port', values.port);
    if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
    const publicUrl = values['public-url'];
    if (publicUrl !== undefined && !/^https?:\/\/[^/\s]+(\/\S*)?$/.test(publicUrl)) throw new UsageError(`--public-url: "${publicUrl}" is not an http(s) URL`);
    const sessionTtlMs = parseDuration('--session-ttl', values['session-ttl']);
    const sessionIdleMs = parseDuration('--session-idle', values['session-idle']);
    // Loaded only here: the Kubernetes client and the server are the console's weight, not that
    // of the other roles sharing this executable (every VRA would carry them in its heap).
    const [{ KubeConfig }, { createLogger, KubeClient }, { startConsoleServer }] = await Promise.all([
      import('@kubernetes/client-node'),
      import('../runtime/index.ts'),
      import('./server.ts'),
    ]);
    const kc = new KubeConfig();
    if (values.kubeconfig === undefined) kc.loadFromDefault();
    else kc.loadFromFile(values.kubeconfig);
    const tls = values['tls-cert'] !== undefined && values['tls-key'] !== undefined
      ? { cert: await readFile(values['tls-cert']), key: await readFile(values['tls-key']) }
      : undefined;
    const logger = createLogger({ name: 'console' });
    const client = new KubeClient(kc, { userAgent: 'zcsp-console' });
    const server = await startConsoleServer({
      client, port, logger, sessionTtlMs, sessionIdleMs,
      ...(values.host !== undefined && { host: values.host }),
      ...(tls !== undefined && { tls }),
      ...(publicUrl !== undefined && { publicUrl }),
    });
    logger.info({ url: server.url }, 'console listening');
    await untilStopSignal();
    logger.info('console shutting down');
    await server.close();
    await client.close();
    return 0;
  },
};
