// The simulated kubelet against a real control plane: two nodes of ours next to a bare control
// plane, pods scheduled by the real scheduler, and checks of what a kubelet must get right.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { isProjectImage, REPO_ROOT, startCluster, type LocalCluster } from '../cluster/cluster.ts';
import { startKubelet, type Kubelet } from '../cluster/kubelet/index.ts';
import { findClusterProcesses } from '../cluster/process.ts';
import { waitFor } from '../cluster/net.ts';
import { claimSlot, podSubnet, type Slot } from '../cluster/slots.ts';

const IMAGE = 'ghcr.io/zcsp/zcsp:dev';
const NS = 'kubelet-test';
const NODES = [
  { name: 'sim-a', labels: { 'zcsp.io/site': 'prod' } },
  { name: 'sim-b', labels: { 'zcsp.io/site': 'dr' } },
];

/** Runs in a pod: prints its environment, then asks the API server who it is with the mounted token. */
const WHOAMI = `
const fs = require('node:fs');
const https = require('node:https');
const dir = '/var/run/secrets/kubernetes.io/serviceaccount';
console.log('ENV ' + JSON.stringify(process.env));
const req = https.request({
  host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT, method: 'POST',
  path: '/apis/authentication.k8s.io/v1/selfsubjectreviews', ca: fs.readFileSync(dir + '/ca.crt'),
  headers: { authorization: 'Bearer ' + fs.readFileSync(dir + '/token', 'utf8'), 'content-type': 'application/json' },
}, (res) => { let b = ''; res.on('data', (d) => (b += d)); res.on('end', () => console.log('WHOAMI ' + res.statusCode + ' ' + b.replace(/\\n/g, ''))); });
req.on('error', (e) => console.log('WHOAMI error ' + e.message));
req.end(JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }));
console.log('NAMESPACE ' + fs.readFileSync(dir + '/namespace', 'utf8'));
process.on('SIGTERM', () => process.exit(0));
setInterval(() => {}, 1 << 30);
`;

function diagPod(name: string, node: string, extra: { withWhoami?: boolean } = {}): V1Pod {
  return {
    metadata: { name, namespace: NS, labels: { app: 'diag', pod: name } },
    spec: {
      nodeSelector: { 'kubernetes.io/hostname': node },
      containers: [
        {
          name: 'diag',
          image: IMAGE,
          command: ['zcsp'],
          args: ['diag', '--port', '8080', '--stamp', `/data/$(POD_NAME).json`],
          ports: [{ name: 'http', containerPort: 8080 }],
          env: [
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
            { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
            { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          ],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
          readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1 },
        },
        ...(extra.withWhoami === true
          ? [
              {
                name: 'whoami',
                image: IMAGE,
                command: ['node', '-e', WHOAMI],
                env: [
                  { name: 'FROM_CONFIGMAP', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode' } } },
                  { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
                  { name: 'FROM_LABEL', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
                  { name: 'EXPANDED', value: 'mode=$(FROM_CONFIGMAP)' },
                ],
                envFrom: [{ prefix: 'CFG_', configMapRef: { name: 'settings' } }],
              },
            ]
          : []),
      ],
      volumes: [{ name: 'data', hostPath: { path: '/var/lib/diag', type: 'DirectoryOrCreate' } }],
    },
  };
}

describe('simulated kubelet', { timeout: 600_000 }, () => {
  let cluster: LocalCluster;
  let core: CoreV1Api;
  let slot: Slot;
  const kubelets = new Map<string, Kubelet>();
  const subnets = new Map<string, string>();

  before(async () => {
    cluster = await startCluster({ kubelets: false, nodes: NODES });
    core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    slot = claimSlot();
    const apiUrl = new URL(cluster.server);
    for (const [index, node] of NODES.entries()) {
      const subnet = podSubnet(slot.slot, index);
      subnets.set(node.name, subnet);
      kubelets.set(
        node.name,
        await startKubelet({
          kubeConfig: cluster.kubeConfig,
          apiServer: { host: apiUrl.hostname, port: Number(apiUrl.port), caFile: cluster.pki.ca.certFile },
          clusterId: cluster.id,
          clusterDir: cluster.dir,
          node: { ...node, podSubnet: subnet },
          isProjectImage,
          repoRoot: REPO_ROOT,
          nodeBinary: process.execPath,
          pki: cluster.pki,
          crashLoopBackoff: { initialMs: 500, maxMs: 2000 },
        }),
      );
    }
    await waitFor(
      async () => {
        const nodes = (await core.listNode()).items;
        return NODES.every((n) => {
          const node = nodes.find((x) => x.metadata?.name === n.name);
          if (node === undefined) return false;
          const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
          return ready && (node.spec?.taints ?? []).every((t) => t.effect !== 'NoSchedule' && t.effect !== 'NoExecute');
        });
      },
      { what: 'simulated nodes Ready and schedulable', timeoutMs: 60_000, intervalMs: 250 },
    );
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await waitFor(async () => (await core.readNamespacedServiceAccount({ name: 'default', namespace: NS })).metadata !== undefined, {
      what: 'default service account',
      timeoutMs: 30_000,
    });
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'settings' }, data: { mode: 'fast', level: 'debug' } } });
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'creds' }, stringData: { password: 's3cret' } } });
  });

  after(async () => {
    await Promise.allSettled([...kubelets.values()].map((k) => k.stop()));
    assert.deepEqual(podProcesses(), [], 'kubelet.stop() leaves no pod process');
    slot.release();
    await cluster.stop();
  });

  /** Processes of pods (their sandboxes and what runs inside), as opposed to the control plane's. */
  function podProcesses(filter = ''): string[] {
    return findClusterProcesses(cluster.id)
      .map((p) => p.cmdline)
      .filter((c) => (c.startsWith('bwrap ') || c.includes('listen-preload.ts')) && c.includes(filter));
  }

  async function waitForPod(name: string, what: string, check: (pod: V1Pod) => boolean, timeoutMs = 60_000): Promise<V1Pod> {
    let pod: V1Pod | undefined;
    await waitFor(
      async () => {
        pod = await core.readNamespacedPod({ name, namespace: NS });
        return check(pod);
      },
      { what: `pod ${name} ${what}`, timeoutMs, intervalMs: 250 },
    );
    return pod as V1Pod;
  }

  const isReady = (pod: V1Pod): boolean => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

  it('runs the project image with probes, its own IP, hostPath, downward API, ConfigMap, Secret and a working token', async () => {
    await core.createNamespacedPod({ namespace: NS, body: diagPod('diag-a', 'sim-a', { withWhoami: true }) });
    await core.createNamespacedPod({ namespace: NS, body: diagPod('diag-a2', 'sim-a') });
    await core.createNamespacedPod({ namespace: NS, body: diagPod('diag-b', 'sim-b') });
    const pods = new Map<string, V1Pod>();
    for (const name of ['diag-a', 'diag-a2', 'diag-b']) pods.set(name, await waitForPod(name, 'Ready', isReady, 90_000));

    // Each pod has its own address in its node's subnet, all on port 8080 without colliding.
    const ips = new Set<string>();
    for (const [name, pod] of pods) {
      const node = pod.spec?.nodeName ?? '';
      const ip = pod.status?.podIP ?? '';
      assert.ok(ip.startsWith(`${subnets.get(node) ?? '?'}.`), `${name}: podIP ${ip} in ${node}'s subnet`);
      assert.equal(pod.status?.hostIP, `${subnets.get(node) ?? '?'}.1`);
      ips.add(ip);
      const res = await fetch(`http://${ip}:8080/`);
      const body = (await res.json()) as Record<string, unknown>;
      assert.deepEqual({ pod: body['pod'], namespace: body['namespace'], node: body['node'], podIP: body['podIP'] }, { pod: name, namespace: NS, node, podIP: ip });
      // The stamp went through the hostPath volume to the node's own filesystem.
      const stamp = JSON.parse(await readFile(cluster.nodePath(node, `/var/lib/diag/${name}.json`), 'utf8')) as Record<string, unknown>;
      assert.equal(stamp['pod'], name);
    }
    assert.equal(ips.size, 3);
    assert.equal(pods.get('diag-a')?.spec?.nodeName, 'sim-a');
    assert.equal(pods.get('diag-b')?.spec?.nodeName, 'sim-b');

    const status = pods.get('diag-a')?.status;
    assert.ok(status);
    assert.equal(status.phase, 'Running');
    const containers = status.containerStatuses ?? [];
    assert.deepEqual(
      containers.map((c) => [c.name, c.ready, c.started, c.restartCount, c.state?.running !== undefined]),
      [
        ['diag', true, true, 0, true],
        ['whoami', true, true, 0, true],
      ],
    );
    assert.match(containers[0]?.containerID ?? '', /^zcsp-sim:\/\/[0-9a-f]{64}$/);

    // Env and token, as seen from inside the pod.
    const log = await waitForLog(kubelets.get('sim-a'), 'diag-a', 'whoami', /^WHOAMI /m);
    const env = JSON.parse(/^ENV (.*)$/m.exec(log)?.[1] ?? '{}') as Record<string, string>;
    assert.equal(env['FROM_CONFIGMAP'], 'fast');
    assert.equal(env['FROM_SECRET'], 's3cret');
    assert.equal(env['FROM_LABEL'], 'diag');
    assert.equal(env['EXPANDED'], 'mode=fast');
    assert.equal(env['CFG_level'], 'debug');
    assert.equal(env['HOSTNAME'], 'diag-a');
    assert.equal(env['KUBERNETES_SERVICE_HOST'], new URL(cluster.server).hostname);
    assert.equal(env['KUBERNETES_SERVICE_PORT'], new URL(cluster.server).port);
    assert.match(log, /^NAMESPACE kubelet-test$/m);
    const [, code, reviewJson] = /^WHOAMI (\d+) (.*)$/m.exec(log) ?? [];
    assert.equal(code, '201', log);
    const review = JSON.parse(reviewJson ?? '{}') as { status?: { userInfo?: { username?: string; extra?: Record<string, string[]> } } };
    const user = review.status?.userInfo ?? {};
    assert.equal(user.username, `system:serviceaccount:${NS}:default`);
    assert.deepEqual(user.extra?.['authentication.kubernetes.io/pod-name'], ['diag-a'], 'the token is bound to the pod');
  });

  it('serves exec through the API server: in the container, with its environment, stdin, stderr and exit code', async () => {
    const exec = (args: readonly string[], input?: string): Promise<string> =>
      cluster.kubectl(['exec', '-n', NS, ...(input !== undefined ? ['-i'] : []), 'diag-a', ...args], input !== undefined ? { input } : {});
    // Inside the container's namespaces: its PID 1 is the container's command; its environment.
    const out = await exec(['-c', 'diag', '--', 'sh', '-c', 'echo "$POD_NAME $HOSTNAME"; tr "\\0" " " < /proc/1/cmdline; echo; echo to-stderr >&2']);
    const [names, pid1] = out.split('\n');
    assert.equal(names, 'diag-a diag-a');
    assert.match(pid1 ?? '', /diag --port 8080/);
    assert.doesNotMatch(out, /to-stderr/, 'stderr is not stdout');
    // The other container by -c; stdin through to the command.
    assert.equal(await exec(['-c', 'whoami', '--', 'sh', '-c', 'tr a-z A-Z'], 'hello\n'), 'HELLO\n');
    // A command's exit code comes back to kubectl, which exits with it.
    await assert.rejects(exec(['-c', 'diag', '--', 'sh', '-c', 'echo failing >&2; exit 3']), /exit 3\b[\s\S]*failing[\s\S]*command terminated with exit code 3/);
    // Straight to the kubelet's endpoint: only the API server gets in (a client of the cluster's
    // CA that is not it is refused; one without a certificate never gets past TLS), and what
    // cannot run is refused with the reason before the upgrade.
    const nodeIP = `${subnets.get('sim-a') ?? '?'}.1`;
    const ca = await readFile(cluster.pki.ca.certFile);
    const pair = async (c: { certFile: string; keyFile: string }): Promise<{ cert: Buffer; key: Buffer }> => ({ cert: await readFile(c.certFile), key: await readFile(c.keyFile) });
    const apiServer = await pair(cluster.pki.kubeletClient);
    const intruder = await pair(await cluster.pki.issueClient('kubelet-exec-intruder', ['system:masters']));
    const upgrade = (path: string, client: { cert?: Buffer; key?: Buffer }): Promise<{ status: number; body: string }> => new Promise((resolve, reject) => {
      const req = httpsRequest({
        host: nodeIP, port: 10250, path, ca, ...client,
        headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-protocol': 'v5.channel.k8s.io' },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('upgrade', (_res, socket) => {
        socket.destroy();
        resolve({ status: 101, body: '' });
      });
      req.on('error', reject);
      req.end();
    });
    const path = (container: string, query = 'command=true&output=1'): string => `/exec/${NS}/diag-a/${container}?${query}`;
    assert.equal((await upgrade(path('diag'), apiServer)).status, 101);
    assert.deepEqual(await upgrade(path('diag'), intruder), { status: 403, body: 'only the API server may exec here (client certificate CN "kubelet-exec-intruder")\n' });
    await assert.rejects(upgrade(path('diag'), {}), /certificate|socket hang up|ECONNRESET/);
    assert.deepEqual(await upgrade(path('nope'), apiServer), { status: 404, body: 'container nope is not valid for pod kubelet-test/diag-a\n' });
    assert.deepEqual(await upgrade(`/exec/${NS}/gone/diag?command=true&output=1`, apiServer), { status: 404, body: 'pod kubelet-test/gone is not on node sim-a\n' });
    assert.deepEqual(await upgrade(path('diag', 'command=true&output=1&tty=1'), apiServer), { status: 400, body: 'tty is not supported by the simulated kubelet\n' });
    assert.deepEqual(await upgrade(path('diag', 'command=true'), apiServer), { status: 400, body: 'you must specify at least 1 of stdin, stdout, stderr\n' });
    // A client that goes before its command ends leaves nothing running.
    const execs = (text: string): string[] => findClusterProcesses(cluster.id).map((p) => p.cmdline).filter((c) => c.includes(text));
    assert.equal((await upgrade(path('diag', 'command=sleep&command=4242&output=1'), apiServer)).status, 101);
    await waitFor(() => Promise.resolve(execs('sleep 4242').length === 0), { what: 'the exec of a client that went to be killed', timeoutMs: 10_000, intervalMs: 100 });
    assert.deepEqual(execs('nsenter'), [], 'no exec left running');
  });

  it('fails a pod of another image clearly', async () => {
    await core.createNamespacedPod({
      namespace: NS,
      body: { metadata: { name: 'nginx' }, spec: { nodeSelector: { 'kubernetes.io/hostname': 'sim-b' }, containers: [{ name: 'web', image: 'nginx:1.27' }] } },
    });
    const { status } = await waitForPod('nginx', 'Failed', (p) => p.status?.phase === 'Failed');
    assert.match(status?.message ?? '', /image "nginx:1\.27".*only runs the project's image/);
    assert.equal(status?.reason, 'ImageNotRunnable');
    const waiting = status.containerStatuses?.[0]?.state?.waiting;
    assert.ok(waiting);
    assert.match(waiting.message ?? '', /nginx:1\.27/);
    assert.equal(waiting.reason, 'ImageNotRunnable');
  });

  it('runs a placeholder for any image when the pod asks for one', async () => {
    await core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: 'placeholder', annotations: { 'sim.zcsp.io/placeholder': 'true' } },
        spec: { nodeSelector: { 'kubernetes.io/hostname': 'sim-b' }, containers: [{ name: 'web', image: 'nginx:1.27' }] },
      },
    });
    await waitForPod('placeholder', 'Ready', isReady);
    await core.deleteNamespacedPod({ name: 'placeholder', namespace: NS });
    await waitForGone('placeholder');
  });

  it('restarts a crashing container with back-off and reports its last state', async () => {
    await core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: 'crasher' },
        spec: {
          nodeSelector: { 'kubernetes.io/hostname': 'sim-a' },
          terminationGracePeriodSeconds: 2,
          containers: [{ name: 'crash', image: IMAGE, command: ['sh', '-c', 'echo "run $(date +%s%N)"; echo bye > /dev/termination-log; exit 3'] }],
        },
      },
    });
    const pod = await waitForPod('crasher', 'restarted twice', (p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2);
    const last = pod.status?.containerStatuses?.[0]?.lastState?.terminated;
    assert.ok(last);
    assert.deepEqual([last.exitCode, last.reason, last.message], [3, 'Error', 'bye\n']);
    const kubelet = kubelets.get('sim-a');
    assert.ok(kubelet !== undefined);
    const first = await readFile(await kubelet.containerLogPath(NS, 'crasher', 'crash', 0), 'utf8');
    const second = await readFile(await kubelet.containerLogPath(NS, 'crasher', 'crash', 1), 'utf8');
    assert.match(first, /^run \d+\n$/);
    assert.notEqual(first, second, 'each restart writes its own log file');
    await waitForPod('crasher', 'in CrashLoopBackOff', (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff');
    await core.deleteNamespacedPod({ name: 'crasher', namespace: NS });
    await waitForGone('crasher');
  });

  it('restarts a container whose exec liveness probe fails (run inside the container)', async () => {
    // First run: marks itself unhealthy; the probe (run in the container's mount namespace, where
    // the emptyDir is /state) fails; the kubelet kills it; the second run is healthy.
    // The trap comes first: as PID 1 of its sandbox, sh ignores a SIGTERM that arrives before it.
    const script = 'trap "exit 0" TERM; if [ -f /state/first ]; then rm -f /state/unhealthy; else touch /state/first /state/unhealthy; fi; while :; do sleep 1 & wait $!; done';
    await core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: 'sick' },
        spec: {
          nodeSelector: { 'kubernetes.io/hostname': 'sim-a' },
          containers: [
            {
              name: 'main',
              image: IMAGE,
              command: ['sh', '-c', script],
              volumeMounts: [{ name: 'state', mountPath: '/state' }],
              livenessProbe: { exec: { command: ['sh', '-c', 'test ! -f /state/unhealthy'] }, periodSeconds: 1, failureThreshold: 1 },
            },
          ],
          volumes: [{ name: 'state', emptyDir: {} }],
        },
      },
    });
    const pod = await waitForPod('sick', 'restarted once and Ready', (p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) === 1 && isReady(p));
    const last = pod.status?.containerStatuses?.[0]?.lastState?.terminated;
    assert.ok(last);
    assert.deepEqual([last.exitCode, last.reason], [0, 'Completed'], 'stopped with SIGTERM, which the script handles');
    const events = await core.listNamespacedEvent({ namespace: NS, fieldSelector: 'involvedObject.name=sick' });
    assert.ok(events.items.some((e) => e.reason === 'Unhealthy' && /Liveness probe failed/.test(e.message ?? '')));
    assert.ok(events.items.some((e) => e.reason === 'Killing' && /failed liveness probe, will be restarted/.test(e.message ?? '')));
    await core.deleteNamespacedPod({ name: 'sick', namespace: NS });
    await waitForGone('sick');
  });

  it('deletes gracefully: stops the processes, then removes the pod object', async () => {
    assert.ok(podProcesses('diag-a2').length > 0, 'diag-a2 runs');
    await core.deleteNamespacedPod({ name: 'diag-a2', namespace: NS });
    await waitForGone('diag-a2');
    assert.deepEqual(podProcesses('diag-a2'), [], 'no process of the deleted pod is left');
    assert.ok(podProcesses('diag-a').length > 0, 'other pods keep running');
  });

  it('kills the processes of a pod that vanishes from the API (deleted with grace 0)', async () => {
    await core.createNamespacedPod({ namespace: NS, body: diagPod('forced', 'sim-b') });
    await waitForPod('forced', 'Ready', isReady);
    assert.ok(podProcesses('forced').length > 0);
    await core.deleteNamespacedPod({ name: 'forced', namespace: NS, gracePeriodSeconds: 0 });
    await waitForGone('forced');
    await waitFor(() => Promise.resolve(podProcesses('forced').length === 0), { what: 'processes of the vanished pod gone', timeoutMs: 15_000 });
  });

  it('keeps a pod Pending while its claim is unbound, then runs it on the bound volume', async () => {
    await core.createNamespacedPersistentVolumeClaim({
      namespace: NS,
      body: { metadata: { name: 'manual' }, spec: { storageClassName: 'manual', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
    });
    // Bound to the node directly: the scheduler would wait for the claim itself.
    const body = diagPod('claimer', 'sim-b');
    const spec = body.spec ?? { containers: [] };
    delete spec.nodeSelector;
    spec.nodeName = 'sim-b';
    spec.volumes = [{ name: 'data', persistentVolumeClaim: { claimName: 'manual' } }];
    await core.createNamespacedPod({ namespace: NS, body });
    const pending = await waitForPod('claimer', 'waiting for its claim', (p) => /not bound/.test(p.status?.containerStatuses?.[0]?.state?.waiting?.message ?? ''));
    assert.equal(pending.status?.phase, 'Pending');
    assert.equal(pending.status.containerStatuses?.[0]?.state?.waiting?.reason, 'ContainerCreating');

    await core.createPersistentVolume({
      body: {
        metadata: { name: 'kubelet-test-manual' },
        spec: {
          storageClassName: 'manual',
          capacity: { storage: '1Gi' },
          accessModes: ['ReadWriteOnce'],
          hostPath: { path: '/var/lib/manual', type: 'DirectoryOrCreate' },
          claimRef: { namespace: NS, name: 'manual' },
        },
      },
    });
    await waitForPod('claimer', 'Ready', isReady, 60_000);
    const stamp = JSON.parse(await readFile(cluster.nodePath('sim-b', '/var/lib/manual/claimer.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(stamp['node'], 'sim-b');
    await core.deleteNamespacedPod({ name: 'claimer', namespace: NS });
    await waitForGone('claimer');
  });

  async function waitForGone(name: string): Promise<void> {
    await waitFor(
      async () => {
        try {
          await core.readNamespacedPod({ name, namespace: NS });
          return false;
        } catch (err: unknown) {
          if ((err as { code?: number }).code === 404) return true;
          throw err;
        }
      },
      { what: `pod ${name} deleted`, timeoutMs: 60_000, intervalMs: 250 },
    );
  }

  async function waitForLog(kubelet: Kubelet | undefined, pod: string, container: string, pattern: RegExp): Promise<string> {
    assert.ok(kubelet !== undefined);
    const path = await kubelet.containerLogPath(NS, pod, container);
    let text = '';
    await waitFor(
      async () => {
        text = existsSync(path) ? await readFile(path, 'utf8') : '';
        return pattern.test(text);
      },
      { what: `${pattern.source} in the log of ${pod}/${container}`, timeoutMs: 30_000, intervalMs: 250 },
    );
    return text;
  }
});
