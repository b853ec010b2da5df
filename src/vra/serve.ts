// The `zcsp vra` process: one per node, serving every stream of the node in both roles.
//   replication port (9440)  TLS; protected VRAs (through their tenant's ZCC) ship records here
//   control port (9441)      HTTPS + bearer token; the operator configures streams, reads figures
//   health port (9442)       plain HTTP /healthz, /readyz, /metrics for the kubelet and Prometheus
import { access, constants, mkdir, readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { startReceiver } from '../replicator/ship/receiver.ts';
import { startHttpServer } from '../runtime/http-server.ts';
import { startControlApi } from './control-api.ts';
import { ExportStore } from './exports.ts';
import { loadOrCreateIdentity } from './identity.ts';
import { vraMetrics } from './metrics.ts';
import { StreamRegistry } from './registry.ts';

export interface VraOptions {
  dataDir: string;
  host?: string;
  port: number;
  controlPort: number;
  healthPort: number;
  controlTokenFile: string;
  node: string;
  site: string;
  materialiseRoots: readonly string[];
  log: Logger;
}

export interface Vra {
  readonly replicationPort: number;
  readonly controlUrl: string;
  readonly healthUrl: string;
  readonly registry: StreamRegistry;
  readonly fingerprint: string;
  close(): Promise<void>;
}

export class VraStartError extends Error {
  override readonly name = 'VraStartError';
}

async function readToken(file: string): Promise<string> {
  let token: string;
  try {
    token = (await readFile(file, 'utf8')).trim();
  } catch (err: unknown) {
    throw new VraStartError(`--control-token-file ${file}: ${(err as Error).message}`);
  }
  if (token.length < 16) throw new VraStartError(`--control-token-file ${file}: the token is shorter than 16 characters`);
  return token;
}

export async function startVra(o: VraOptions): Promise<Vra> {
  const token = await readToken(o.controlTokenFile);
  await mkdir(o.dataDir, { recursive: true });
  const identity = await loadOrCreateIdentity(o.dataDir, o.node);
  const registry = new StreamRegistry(o.dataDir, o.log);
  await registry.load();
  const exports = new ExportStore(o.dataDir, registry, o.log.child({ component: 'exports' }));
  await exports.load();
  const receiver = await startReceiver({
    ...(o.host !== undefined && { host: o.host }),
    port: o.port,
    tls: { key: identity.key, cert: identity.cert },
    lookup: (id) => {
      const stream = registry.get(id);
      return stream !== undefined && stream.config.role === 'target' ? registry.target(id).receiverEntry() : undefined;
    },
    log: o.log.child({ component: 'receiver' }),
  });
  const control = await startControlApi({
    port: o.controlPort,
    ...(o.host !== undefined && { host: o.host }),
    identity,
    token,
    registry,
    exports,
    materialiseRoots: o.materialiseRoots,
    node: o.node,
    site: o.site,
    replicationPort: receiver.port,
    log: o.log.child({ component: 'control' }),
  });
  let stopping = false;
  const health = await startHttpServer({
    port: o.healthPort,
    ...(o.host !== undefined && { host: o.host }),
    registry: vraMetrics(registry, exports),
    health: [{ name: 'ping', check: () => undefined }],
    ready: [
      { name: 'shutdown', check: () => (stopping ? 'shutting down' : undefined) },
      { name: 'data-dir', check: () => (dataDirOk ? undefined : `data directory ${o.dataDir} is not writable`) },
    ],
  });
  // Checked in the background so /readyz answers at once; a volume that goes read-only shows up.
  let dataDirOk = true;
  const probe = setInterval(() => {
    access(o.dataDir, constants.W_OK).then(() => { dataDirOk = true; }, () => { dataDirOk = false; });
  }, 5000);
  probe.unref();
  o.log.info({ replication: receiver.port, control: control.url, health: health.url, fingerprint: identity.fingerprint, streams: registry.list().length }, 'vra serving');
  return {
    replicationPort: receiver.port,
    controlUrl: control.url,
    healthUrl: health.url,
    registry,
    fingerprint: identity.fingerprint,
    async close() {
      stopping = true;
      clearInterval(probe);
      await exports.close();
      await control.close();
      await receiver.close();
      await registry.close();
      await health.close();
    },
  };
}
