import { parseArgs } from 'node:util';
import { parsePort } from '../cli/args.ts';
import { UsageError, type Command } from '../cli/command.ts';

const help = `usage: zcsp zcc --zorg NAME --routes CONFIGMAP [options]

A tenant's connector (ZCC): a TLS proxy from the tenant's VRAs to the recovery VRAs its VPGs
replicate to. Each connection starts with a handshake naming the tenant, its token and the target
VRA (site and node); the connector checks them and then carries bytes both ways. Run by the ZCC
controller as a Deployment in the provider namespace.

  --listen ADDR:PORT      where the tunnel endpoint listens (default 0.0.0.0:9443)
  --zorg NAME             the tenant served; only its token is accepted
  --routes NAME           the ConfigMap with the sites the tenant may reach (kept by the controller)
  --namespace NS          the provider namespace (default $POD_NAMESPACE)
  --credentials-dir DIR   tls.crt, tls.key and token (default /etc/zcsp/zcc)
  --health-port N         plain HTTP /healthz, /readyz and /metrics (default 9441; 0 picks one)
  --idle-timeout S        close a tunnel without traffic for S seconds (default 300)
  --hello-timeout S       a connection must complete its handshake within S seconds (default 10)
  --kubeconfig FILE       the API server to read from (default: in-cluster, else the usual kubeconfig)`;

/** "0.0.0.0:9443", "[::]:9443" or ":9443". */
export function parseListen(value: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value);
  const port = Number(m?.[3]);
  if (m === null || !(port >= 0 && port <= 65535)) throw new UsageError(`--listen: "${value}" is not HOST:PORT`);
  const host = m[1] ?? m[2];
  return { host: host === '' ? undefined : host, port };
}

function seconds(option: string, value: string): number {
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0)) throw new UsageError(`--${option}: "${value}" is not a positive number of seconds`);
  return n * 1000;
}

export const zccCommand: Command = {
  name: 'zcc',
  summary: 'run a tenant\'s connector (authenticating TLS proxy to recovery VRAs)',
  async run(args) {
    const { values } = parseArgs({
      args: [...args],
      options: {
        listen: { type: 'string', default: '0.0.0.0:9443' },
        zorg: { type: 'string' },
        routes: { type: 'string' },
        namespace: { type: 'string' },
        'credentials-dir': { type: 'string', default: '/etc/zcsp/zcc' },
        'health-port': { type: 'string', default: '9441' },
        'idle-timeout': { type: 'string', default: '300' },
        'hello-timeout': { type: 'string', default: '10' },
        kubeconfig: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
    if (values.help === true) {
      process.stdout.write(help + '\n');
      return 0;
    }
    const zorg = values.zorg;
    const routes = values.routes;
    const namespace = values.namespace ?? process.env['POD_NAMESPACE'];
    if (zorg === undefined || zorg === '') throw new UsageError('--zorg is required');
    if (routes === undefined || routes === '') throw new UsageError('--routes is required');
    if (namespace === undefined || namespace === '') throw new UsageError('--namespace (or $POD_NAMESPACE) is required');
    const listen = parseListen(values.listen);
    const healthPort = parsePort('health-port', values['health-port']);
    const idleTimeoutMs = seconds('idle-timeout', values['idle-timeout']);
    const helloTimeoutMs = seconds('hello-timeout', values['hello-timeout']);

    // The server (and the API client it needs) loads only now: `zcsp vra` and the others never pay for it.
    const { serveZcc } = await import('./serve.ts');
    return serveZcc({
      host: listen.host, port: listen.port, healthPort, zorg, namespace, routesConfigMap: routes,
      credentialsDir: values['credentials-dir'], idleTimeoutMs, helloTimeoutMs, kubeconfig: values.kubeconfig,
    });
  },
};
