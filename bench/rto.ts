// Benchmark: recovery time (RTO) of a failover test and of a live failover, from the request to
// the workload running, for volumes of given sizes, on the local cluster (real VRA, ZCC and
// restore pods as processes on this machine; the operator in this process).
//   npm run bench:rto -- [--sizes 1,5] (GiB)
// For each size: a claim filled with incompressible data (the worst case: nothing for zstd),
// protected until MeetingSLA (the initial sync is timed too), then a failover test (request →
// stage Running) and a live failover with a manual commit (request → BeforeCommit, workloads up),
// rolled back. Each is broken down by step (status.operation.steps).
import { randomFillSync } from 'node:crypto';
import { mkdir, open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { waitFor } from '../test/cluster/net.ts';
import { startRecoveryEnv, type Operation, type RecoveryEnv } from '../test/integration/support/recovery-env.ts';
import { VPGS } from '../src/controllers/resources.ts';
import type { PersistentVolumeClaim } from '../src/kube/objects.ts';
import { PERSISTENT_VOLUME_CLAIMS } from '../src/runtime/index.ts';
import { GiB, MiB } from './proc.ts';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '1,5' } } });
const sizes = values.sizes.split(',').map(Number);
if (sizes.some((s) => !(s > 0 && s <= 64))) throw new Error(`--sizes: "${values.sizes}" must be GiB figures between 0 and 64, comma-separated`);

const NS = 'acme-prod';
const app = (name: string, gib: number): string => `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: ${name}, namespace: ${NS} }
spec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: ${Math.ceil(gib * 1.1)}Gi } } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: ${NS} }
spec:
  replicas: 1
  strategy: { type: Recreate }
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      nodeSelector: { zcsp.io/site: prod }
      containers: [{ name: app, image: ghcr.io/zcsp/zcsp:0.1.0, args: [diag, --port, "8090"], volumeMounts: [{ name: data, mountPath: /data }] }]
      volumes: [{ name: data, persistentVolumeClaim: { claimName: ${name} } }]
`;
/** Applied once the volume is full: the initial sync copies all of it. */
const vpg = (name: string): string => `
apiVersion: zcsp.io/v1alpha1
kind: VPG
metadata: { name: ${name}, namespace: ${NS} }
spec:
  serviceProfile: gold
  protectedSite: prod
  recoverySite: dr
  volumes: { claimNames: [${name}] }
  bootOrder: [{ name: app, workloads: [{ kind: Deployment, name: ${name} }] }]
  recovery: { namespace: acme-dr, testNamespace: acme-test }
`;

/** Files of 1 to 256 MiB of random data, `gib` GiB in all. */
async function fill(dir: string, gib: number): Promise<void> {
  await mkdir(join(dir, 'data'), { recursive: true });
  const chunk = Buffer.alloc(4 * MiB);
  let left = gib * GiB;
  for (let i = 0; left > 0; i++) {
    const size = Math.min(left, 2 ** (i % 9) * MiB);
    const f = await open(join(dir, 'data', `f${String(i).padStart(5, '0')}.bin`), 'w');
    for (let done = 0; done < size; done += chunk.length) {
      randomFillSync(chunk);
      await f.write(chunk, 0, Math.min(chunk.length, size - done));
    }
    await f.sync();
    await f.close();
    left -= size;
  }
}

/** Bytes of the files under a folder. */
async function du(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).size;
  }
  return total;
}

interface Run { ms: number; steps: string }

async function timeOperation(env: RecoveryEnv, name: string, operation: object, done: (op: Operation | undefined) => boolean): Promise<Run> {
  const t0 = Date.now();
  await env.setOperation(operation, name, NS);
  await env.waitOperation(`${name}: ${JSON.stringify(operation)}`, done, { name, ns: NS, timeoutMs: 60 * 60_000 });
  const op = (await env.vpg(name, NS)).status?.operation;
  const steps = (op?.steps ?? []).filter((s) => s.endTime !== undefined)
    .map((s) => `${s.name} ${((Date.parse(s.endTime ?? '') - Date.parse(s.startTime)) / 1000).toFixed(1)}s`).join(', ');
  return { ms: Date.now() - t0, steps };
}

const env = await startRecoveryEnv();
const rows: string[] = [];
try {
  for (const gib of sizes) {
    const name = `rto-${String(gib).replace('.', '-')}g`;
    await env.cluster.kubectl(['apply', '-f', '-'], { input: app(name, gib) });
    await waitFor(async () => (await env.admin.get<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS, name, NS)).status?.phase === 'Bound', { what: `${name} bound`, timeoutMs: 120_000 });
    const tFill = Date.now();
    await fill(await env.volumeDir(name, NS), gib);
    const fillS = (Date.now() - tFill) / 1000;
    const tSync = Date.now();
    await env.cluster.kubectl(['apply', '-f', '-'], { input: vpg(name) });
    await env.cluster.kubectl(['wait', '--for=condition=MeetingSLA', '-n', NS, `vpg/${name}`, '--timeout=3600s']);
    const syncS = (Date.now() - tSync) / 1000;

    const test = await timeOperation(env, name, { type: 'FailoverTest' }, (op) => op?.stage === 'Running');
    const restored = await du(await env.volumeDir(name, 'acme-test'));
    if (restored < gib * GiB) throw new Error(`the test restored ${restored} bytes, less than the ${gib} GiB written`);
    await env.setOperation(null, name, NS);
    await env.waitOperation('test stopped', (op) => op === undefined, { name, ns: NS, timeoutMs: 600_000 });

    const live = await timeOperation(env, name, { type: 'Failover', commitPolicy: { type: 'Manual' } }, (op) => op?.stage === 'BeforeCommit');
    await env.setOperation({ decision: 'Rollback' }, name, NS);
    await env.waitOperation('rolled back', (op) => op === undefined, { name, ns: NS, timeoutMs: 600_000 });

    rows.push(`| ${gib} GiB | ${fillS.toFixed(1)} | ${syncS.toFixed(1)} | ${(test.ms / 1000).toFixed(1)} | ${(live.ms / 1000).toFixed(1)} |`);
    process.stdout.write(`${gib} GiB: failover test ${(test.ms / 1000).toFixed(1)} s (${test.steps}); live failover ${(live.ms / 1000).toFixed(1)} s (${live.steps})\n`);
    // Room for the next size: the VPG (journal, replica) and the claim go.
    await env.admin.delete(VPGS, name, NS);
    await env.cluster.kubectl(['delete', '-n', NS, `deployment/${name}`, `pvc/${name}`, '--wait=true', '--timeout=300s']);
    await waitFor(async () => (await env.admin.tryGet(VPGS, name, NS)) === undefined, { what: `${name} deleted`, timeoutMs: 300_000 });
  }
  process.stdout.write([
    '',
    '| volume | fill s | initial sync s (to MeetingSLA) | failover test RTO s (request → Running) | live failover RTO s (request → workload up, BeforeCommit) |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
  ].join('\n'));
} finally {
  await env.stop();
}
