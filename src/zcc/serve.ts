// The `zcsp zcc` process: the proxy, the directory it resolves targets with, and the health
// server, until SIGTERM. Loaded by command.ts only when the connector runs (it pulls in the API
// client, which the other roles of the image do not need).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, Registry, createLogger, startHttpServer } from '../runtime/index.ts';
import { untilStopSignal } from '../cli/args.ts';
import { VraDirectory } from './directory.ts';
import { startZccProxy } from './proxy.ts';

export interface ServeOptions {
  host: string | undefined;
  port: number;
  healthPort: number;
  zorg: string;
  namespace: string;
  routesConfigMap: string;
  credentialsDir: string;
  idleTimeoutMs: number;
  helloTimeoutMs: number;
  kubeconfig: string | undefined;
}

function kubeConfig(file: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (file !== undefined) kc.loadFromFile(file);
  else if (process.env['KUBERNETES_SERVICE_HOST'] !== undefined) kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}

/** Credentials files of the ZCC's Secret; throws naming every one that cannot be read, in order. */
export async function readCredentials(dir: string): Promise<{ cert: string; key: string; token: string }> {
  const files = ['tls.crt', 'tls.key', 'token'] as const;
  const results = await Promise.allSettled(files.map((f) => readFile(join(dir, f), 'utf8')));
  const problems = results.flatMap((r, i) => (r.status === 'rejected' ? [`cannot read ${join(dir, files[i] ?? '')}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`] : []));
  if (problems.length > 0) throw new Error(problems.join('; '), { cause: results.find((r) => r.status === 'rejected')?.reason });
  const [cert = '', key = '', token = ''] = results.map((r) => (r.status === 'fulfilled' ? r.value : ''));
  if (token.trim() === '') throw new Error(`${join(dir, 'token')} is empty`);
  return { cert, key, token: token.trim() };
}

/** Runs until SIGTERM or SIGINT; resolves the exit code. */
export async function serveZcc(o: ServeOptions): Promise<number> {
  const { cert, key, token } = await readCredentials(o.credentialsDir);
  const log = createLogger({ name: 'zcsp-zcc' });
  const registry = new Registry();
  const client = new KubeClient(kubeConfig(o.kubeconfig), { userAgent: `zcsp-zcc/${o.zorg}` });
  const directory = new VraDirectory({ client, namespace: o.namespace, zorg: o.zorg, routesConfigMap: o.routesConfigMap, logger: log.child({ component: 'directory' }) });
  directory.start();
  let stopping = false;
  const proxy = await startZccProxy({
    ...(o.host !== undefined && { host: o.host }),
    port: o.port, cert, key, zorg: o.zorg, token,
    resolve: (target) => directory.resolve(target),
    idleTimeoutMs: o.idleTimeoutMs, helloTimeoutMs: o.helloTimeoutMs, logger: log, registry,
  });
  const http = await startHttpServer({
    port: o.healthPort,
    ...(o.host !== undefined && { host: o.host }),
    registry,
    health: [{ name: 'ping', check: () => undefined }],
    ready: [
      { name: 'routes', check: () => (directory.synced() ? undefined : 'VRA pods and routes not read yet') },
      { name: 'shutdown', check: () => (stopping ? 'shutting down' : undefined) },
    ],
  });
  log.info({ tunnel: `${proxy.host}:${proxy.port}`, health: http.url, namespace: o.namespace, routes: o.routesConfigMap }, 'connector serving');
  const signal = await untilStopSignal();
  log.info({ signal }, 'stopping: open tunnels get 20 s to finish');
  stopping = true;
  try {
    await proxy.close({ graceMs: 20_000 });
    await directory.stop();
    await http.close();
    await client.close();
  } catch (err: unknown) {
    log.error({ err }, 'shutdown failed');
    return 1;
  }
  return 0;
}
