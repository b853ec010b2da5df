import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { V1Probe } from '@kubernetes/client-node';
import { resolvePort, runHandler, type HandlerContext } from './handlers.ts';
import { ContainerProbes, initialProbeState, nextProbeState, type ProbeKind } from './probes.ts';

describe('nextProbeState', () => {
  it('flips only after the thresholds of consecutive outcomes', () => {
    const probe = { successThreshold: 2, failureThreshold: 3 };
    let s = initialProbeState('readiness');
    const results: string[] = [];
    for (const ok of [true, false, true, true, false, false, true, false]) {
      s = nextProbeState(s, ok, probe);
      results.push(s.result);
    }
    assert.deepEqual(results, ['failure', 'failure', 'failure', 'success', 'success', 'success', 'success', 'success']);
    s = nextProbeState(nextProbeState(s, false, probe), false, probe);
    assert.equal(s.result, 'failure');
  });

  it('starts readiness as failure, liveness as success, startup as unknown', () => {
    assert.equal(initialProbeState('readiness').result, 'failure');
    assert.equal(initialProbeState('liveness').result, 'success');
    assert.equal(initialProbeState('startup').result, 'unknown');
  });
});

describe('ContainerProbes', () => {
  const fast = (extra: Partial<V1Probe> = {}): V1Probe => ({ periodSeconds: 0.02, failureThreshold: 2, ...extra });

  it('holds readiness and liveness until the startup probe succeeds', async () => {
    const calls: ProbeKind[] = [];
    let startupOk = false;
    let changes = 0;
    const probes = new ContainerProbes({ startupProbe: fast({ failureThreshold: 100 }), readinessProbe: fast(), livenessProbe: fast() }, Date.now(), {
      run: (_p, kind) => {
        calls.push(kind);
        return Promise.resolve({ ok: kind !== 'startup' || startupOk });
      },
      changed: () => changes++,
      unhealthy: () => undefined,
      failed: () => assert.fail('nothing fails'),
    });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(probes.started, false);
    assert.deepEqual([...new Set(calls)], ['startup']);
    startupOk = true;
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(probes.started, true);
    assert.equal(probes.ready, true);
    assert.deepEqual([...new Set(calls)].sort(), ['liveness', 'readiness', 'startup']);
    assert.ok(changes >= 2, 'started and ready were both reported');
    probes.stop();
  });

  it('asks for a kill when liveness fails failureThreshold times, then stops probing', async () => {
    let runs = 0;
    const failures: string[] = [];
    const probes = new ContainerProbes({ livenessProbe: fast() }, Date.now(), {
      run: () => {
        runs++;
        return Promise.resolve({ ok: false, message: 'HTTP probe failed with statuscode: 500' });
      },
      changed: () => undefined,
      unhealthy: () => undefined,
      failed: (kind, message) => failures.push(`${kind}: ${message}`),
    });
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(failures, ['liveness: Container failed liveness probe, will be restarted']);
    assert.equal(runs, 2);
    assert.equal(probes.ready, true, 'no readiness probe: ready once started');
    probes.stop();
  });

  it('waits initialDelaySeconds from the container start', async () => {
    let firstRun: number | undefined;
    const start = Date.now();
    const probes = new ContainerProbes({ readinessProbe: fast({ initialDelaySeconds: 0.15 }) }, start, {
      run: () => {
        firstRun ??= Date.now();
        return Promise.resolve({ ok: true });
      },
      changed: () => undefined,
      unhealthy: () => undefined,
      failed: () => undefined,
    });
    await new Promise((r) => setTimeout(r, 250));
    probes.stop();
    assert.ok(firstRun !== undefined && firstRun - start >= 140, `first probe after ${String(firstRun === undefined ? '-' : firstRun - start)} ms`);
  });
});

describe('probe handlers', () => {
  let server: Server;
  let port: number;
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/healthz') res.writeHead(200).end('ok');
      else if (req.url === '/slow') setTimeout(() => res.writeHead(200).end(), 1000);
      else res.writeHead(503).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const ctx = (): HandlerContext => ({
    podIP: '127.0.0.1',
    container: { name: 'c', ports: [{ name: 'http', containerPort: port }] },
    containerPid: () => undefined,
    env: {},
    clusterId: 'x',
    kubeletVersion: 'v1.37.2',
  });

  it('httpGet: 2xx/3xx pass, others fail with the status, named ports resolve', async () => {
    assert.deepEqual(await runHandler({ httpGet: { path: '/healthz', port: 'http' } }, ctx(), 1000), { ok: true });
    assert.deepEqual(await runHandler({ httpGet: { path: '/nope', port } }, ctx(), 1000), { ok: false, message: 'HTTP probe failed with statuscode: 503' });
    const slow = await runHandler({ httpGet: { path: '/slow', port } }, ctx(), 100);
    assert.equal(slow.ok, false);
    assert.match(slow.message ?? '', /deadline exceeded/);
  });

  it('tcpSocket: connects or reports connection refused', async () => {
    assert.deepEqual(await runHandler({ tcpSocket: { port } }, ctx(), 1000), { ok: true });
    const refused = await runHandler({ tcpSocket: { port: 1 } }, ctx(), 1000);
    assert.deepEqual(refused, { ok: false, message: 'dial tcp 127.0.0.1:1: connect: connection refused' });
  });

  it('exec: fails when the container is not running', async () => {
    assert.deepEqual(await runHandler({ exec: { command: ['true'] } }, ctx(), 1000), { ok: false, message: 'container is not running' });
  });

  it('resolvePort: numbers, numeric strings and names', () => {
    assert.equal(resolvePort(80, undefined), 80);
    assert.equal(resolvePort('8080', undefined), 8080);
    assert.equal(resolvePort('metrics', [{ name: 'metrics', containerPort: 9090 }]), 9090);
    assert.throws(() => resolvePort('nope', []), /not a named port/);
  });
});
