// Benchmark: N Zorgs with two namespaces each, from creation to all Ready, against a real
// control plane (no nodes: the tenants' ZCC pods stay unscheduled, the Zorgs do not wait for
// them). Prints the time taken, the operator's peak RSS and the API requests it made.
//   npm run bench:zorgs -- [--zorgs 200]
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { startCluster, REPO_ROOT } from '../test/cluster/cluster.ts';
import { freePort, waitFor } from '../test/cluster/net.ts';
import { peakRssMiB } from './proc.ts';

const { values } = parseArgs({ options: { zorgs: { type: 'string', default: '200' } } });
const count = Number(values.zorgs);
if (!Number.isInteger(count) || count < 1) throw new Error(`--zorgs: "${values.zorgs}" must be a positive whole number`);

const cluster = await startCluster({ kubelets: false });
try {
  await cluster.kubectl(['apply', '-f', join(REPO_ROOT, 'deploy/crds')]);
  await cluster.kubectl(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
  await cluster.kubectl(['create', 'namespace', 'zcsp-system']);
  await cluster.kubectl(['apply', '-f', join(REPO_ROOT, 'examples/02-service-profile.yaml')]);
  const port = await freePort();
  const manager = spawn(process.execPath, [join(REPO_ROOT, 'src/main.ts'), 'manager', '--leader-elect=false', `--http-port=${port}`, '--log-level=warn'], {
    env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath, POD_NAMESPACE: 'zcsp-system', ZCSP_IMAGE: 'ghcr.io/zcsp/zcsp:0.1.0' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, { what: 'manager ready', timeoutMs: 60_000 });
    const custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    const zorgs = { group: 'zcsp.io', version: 'v1alpha1', plural: 'zorgs' };
    const t0 = Date.now();
    for (let i = 0; i < count; i += 20) {
      await Promise.all(Array.from({ length: Math.min(20, count - i) }, (_, j) => {
        const name = `tenant-${String(i + j).padStart(4, '0')}`;
        return custom.createClusterCustomObject({ ...zorgs, body: {
          apiVersion: 'zcsp.io/v1alpha1', kind: 'Zorg', metadata: { name },
          spec: { displayName: name, namespaces: [`${name}-a`, `${name}-b`], allowedServiceProfiles: ['gold'],
            members: [{ kind: 'Group', name: `${name}-admins`, role: 'Admin' }] },
        } });
      }));
    }
    const created = Date.now() - t0;
    let ready = 0;
    await waitFor(async () => {
      const list = (await custom.listClusterCustomObject(zorgs)) as { items: { status?: { conditions?: { type: string; status: string }[] } }[] };
      ready = list.items.filter((z) => z.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true).length;
      return ready === count;
    }, { what: `${count} Zorgs Ready`, timeoutMs: 30 * 60_000, intervalMs: 1000 });
    const elapsed = Date.now() - t0;
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const byVerb = new Map<string, number>();
    for (const m of metrics.matchAll(/^zcsp_api_requests_total\{[^}]*verb="([^"]+)"[^}]*\} (\d+)/gm)) {
      byVerb.set(m[1] ?? '', (byVerb.get(m[1] ?? '') ?? 0) + Number(m[2]));
    }
    const total = [...byVerb.values()].reduce((a, b) => a + b, 0);
    process.stdout.write([
      `zorgs:                 ${count} (2 namespaces each)`,
      `created in:            ${(created / 1000).toFixed(1)} s`,
      `all Ready after:       ${(elapsed / 1000).toFixed(1)} s (${(count / (elapsed / 1000)).toFixed(1)} Zorgs/s)`,
      `operator peak RSS:     ${peakRssMiB(manager.pid ?? 0).toFixed(0)} MiB`,
      `API requests:          ${total} (${(total / count).toFixed(1)} per Zorg): ${[...byVerb].map(([v, n]) => `${v} ${n}`).join(', ')}`,
      '',
    ].join('\n'));
  } finally {
    manager.kill('SIGTERM');
    await new Promise((r) => manager.once('exit', r));
  }
} finally {
  await cluster.stop();
}
