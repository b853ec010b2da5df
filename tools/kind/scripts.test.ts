// up.sh and down.sh, run for real with docker, kind, kubectl and helm replaced by shim.sh (none
// of them can work without Docker): the calls they make, in order, on the cluster's context only,
// what a second run leaves alone, and what they say when something is missing. The values up.sh
// gives helm are then rendered by the real helm, to show the chart takes them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { helmTemplate, kindConfig, podSpecs, ROOT, run, upConfig } from './repo.ts';

const TOOLS = ['docker', 'kind', 'kubectl', 'helm'];
const SYSTEM_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

interface Call { cwd: string; argv: string[] }

describe('tools/kind/up.sh and down.sh', () => {
  let tmp: string;
  let sysbin: string;
  let shims: string;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'zcsp-kind-scripts-'));
    // This machine's programs, but none of the four tools, whatever is installed here.
    sysbin = join(tmp, 'sysbin');
    shims = join(tmp, 'shims');
    await mkdir(sysbin);
    await mkdir(shims);
    const linked = new Set(TOOLS);
    for (const dir of SYSTEM_PATH.filter(existsSync)) {
      for (const name of readdirSync(dir)) {
        if (linked.has(name)) continue;
        linked.add(name);
        await symlink(join(dir, name), join(sysbin, name));
      }
    }
    for (const tool of TOOLS) await symlink(join(ROOT, 'tools/kind/shim.sh'), join(shims, tool));
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  /** A fresh world: no cluster, nothing patched; the scripts' environment and the calls' log. */
  const world = async (name: string): Promise<{ env: Record<string, string>; calls: () => Promise<Call[]>; state: string; stateDir: string }> => {
    const dir = join(tmp, name);
    const state = join(dir, 'shim-state');
    await mkdir(state, { recursive: true });
    const log = join(dir, 'calls.log');
    await writeFile(log, '');
    const stateDir = join(dir, 'kind-state');
    const env = { PATH: `${shims}:${sysbin}`, HOME: dir, SHIM_LOG: log, SHIM_STATE: state, ZCSP_KIND_STATE_DIR: stateDir };
    const calls = async (): Promise<Call[]> => (await readFile(log, 'utf8')).split('\n').filter((l) => l !== '').map((l) => {
      const [cwd = '', ...argv] = l.split('\x1f');
      return { cwd, argv };
    });
    return { env, calls, state, stateDir };
  };
  const script = (name: string, args: string[], env: Record<string, string>) => run('bash', [join(ROOT, 'tools/kind', name), ...args], { cwd: tmp, env });
  const line = (c: Call): string => c.argv.join(' ');

  it('up.sh --print-config: kind-config.yaml\'s cluster and the chart\'s image, each overridable', async () => {
    const def = await upConfig({ ZCSP_KIND_STATE_DIR: '/somewhere' });
    assert.equal(def['cluster'], kindConfig().name);
    assert.equal(def['context'], `kind-${kindConfig().name}`);
    assert.equal(def['state_dir'], '/somewhere');
    const set = await upConfig({ ZCSP_KIND_CLUSTER: 'mine', ZCSP_IMAGE_REPO: 'registry.example/zcsp', ZCSP_IMAGE_TAG: 'dev' });
    assert.deepEqual(
      { cluster: set['cluster'], context: set['context'], image: set['image'], examples: set['examples_image'], state: set['state_dir'] },
      { cluster: 'mine', context: 'kind-mine', image: 'registry.example/zcsp:dev', examples: def['image'], state: '/nonexistent/.local/state/zcsp/kind-mine' },
    );
  });

  it('up.sh names every missing tool, and says so when Docker\'s daemon is down', async () => {
    const { env, calls, state } = await world('missing');
    const none = await script('up.sh', [], { ...env, PATH: sysbin });
    assert.equal(none.code, 1, none.stderr);
    for (const tool of TOOLS) assert.match(none.stderr, new RegExp(`^  ${tool} \\(install: https://`, 'm'), `up.sh names ${tool}`);
    await writeFile(join(state, 'docker-down'), '');
    const down = await script('up.sh', [], env);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /docker is installed but its daemon does not answer/);
    assert.deepEqual((await calls()).map(line), ['docker info'], 'nothing but the check ran');
  });

  it('up.sh builds, creates the cluster, loads, installs and applies, all on the cluster\'s context; run again, it keeps the cluster', async () => {
    const { env, calls, stateDir } = await world('up');
    const { image } = await upConfig();
    const first = await script('up.sh', [], env);
    assert.equal(first.code, 0, `up.sh failed:\n${first.stdout}\n${first.stderr}`);
    const firstCalls = await calls();
    const expected = [
      'docker info',
      `docker build --tag ${String(image)} .`,
      'kind get clusters',
      'kind create cluster --name zcsp',
      `kind load docker-image --name zcsp ${String(image)}`,
      'kubectl --context kind-zcsp -n local-path-storage patch configmap local-path-config --type merge --patch-file tools/kind/local-path-config.yaml',
      'kubectl --context kind-zcsp -n local-path-storage rollout restart deployment/local-path-provisioner',
      'kubectl --context kind-zcsp apply -f tools/kind/storage.yaml',
      'kubectl --context kind-zcsp annotate storageclass standard storageclass.kubernetes.io/is-default-class=false --overwrite',
      'helm --kube-context kind-zcsp upgrade --install zcsp deploy/helm/zcsp --namespace zcsp-system --create-namespace --wait',
      'kubectl --context kind-zcsp apply -f tools/kind/console-admin.yaml',
      'kubectl --context kind-zcsp apply -f examples/',
      'kubectl --context kind-zcsp wait --for=condition=Ready zorgs --all',
      'kubectl --context kind-zcsp apply -f examples/',
    ];
    assertInOrder(firstCalls.map(line), expected);
    for (const c of firstCalls) {
      if (c.argv[0] === 'kubectl') assert.deepEqual(c.argv.slice(1, 3), ['--context', 'kind-zcsp'], `${line(c)}: not on the cluster's context`);
      if (c.argv[0] === 'helm') assert.deepEqual(c.argv.slice(1, 3), ['--kube-context', 'kind-zcsp'], `${line(c)}: not on the cluster's context`);
      if (c.argv[0] !== 'kind' || c.argv[1] !== 'create') assert.equal(c.cwd, ROOT, `${line(c)} ran in ${c.cwd}, not the repository's root`);
    }
    // kind takes the config's relative host paths from where it runs: the state folder, made first.
    const create = firstCalls.find((c) => c.argv[1] === 'create');
    assert.equal(create?.cwd, stateDir, 'kind create cluster runs in the state folder');
    assert.deepEqual(create.argv.slice(5, 7), ['--config', join(ROOT, 'kind-config.yaml')]);
    for (const node of kindConfig().nodes) {
      for (const m of node.extraMounts ?? []) assert.ok(existsSync(join(stateDir, m.hostPath)), `up.sh made no ${m.hostPath} for ${node.name}`);
    }
    assert.match(first.stdout, /kubectl --context kind-zcsp get vpg -A -w/);
    assert.match(first.stdout, /port-forward svc\/zcsp-console 8080:80/);

    const before = firstCalls.length;
    const again = await script('up.sh', [], env);
    assert.equal(again.code, 0, `up.sh again failed:\n${again.stdout}\n${again.stderr}`);
    const secondCalls = (await calls()).slice(before).map(line);
    assert.ok(secondCalls.every((c) => !c.startsWith('kind create') && !c.includes('rollout restart') && !c.includes(' wait ')), `the second run changed what was there:\n${secondCalls.join('\n')}`);
    assertInOrder(secondCalls, [`docker build --tag ${String(image)} .`, `kind load docker-image --name zcsp ${String(image)}`, 'helm --kube-context kind-zcsp upgrade --install zcsp', 'kubectl --context kind-zcsp apply -f examples/']);
    assert.match(again.stdout, /exists: kept as it is/);
  });

  it('up.sh gives helm values the chart takes, which make it run the image up.sh built', async () => {
    const { env, calls } = await world('values');
    const result = await script('up.sh', [], { ...env, ZCSP_IMAGE_TAG: 'dev' });
    assert.equal(result.code, 0, result.stderr);
    const all = await calls();
    const helm = all.find((c) => c.argv[0] === 'helm');
    assert.ok(helm !== undefined, 'up.sh ran no helm');
    const values = helm.argv.flatMap((a, i, argv) => (a === '--set' || a === '--set-string' ? [a, argv[i + 1] ?? ''] : []));
    const docs = await helmTemplate(values);
    const rendered = podSpecs(docs);
    const image = 'ghcr.io/zcsp/zcsp:dev';
    assert.ok(rendered.length > 0);
    for (const { source, spec } of rendered) {
      assert.deepEqual(spec.containers.map((c) => c.image), [image], `${source} with up.sh's values`);
    }
    // A rebuilt image (another id) changes the pods' template, so helm rolls them.
    const id = all.find((c) => c.argv[0] === 'docker' && c.argv[1] === 'image')?.argv;
    assert.ok(id !== undefined, 'up.sh never asked docker for the image id');
    for (const doc of docs.filter((d) => d.object['kind'] === 'Deployment')) {
      const annotations = (doc.object as { spec: { template: { metadata?: { annotations?: Record<string, string> } } } }).spec.template.metadata?.annotations ?? {};
      assert.match(annotations['zcsp.io/image-id'] ?? '', /^sha256:[0-9a-f]{64}$/, `${doc.source}: pod annotation zcsp.io/image-id`);
    }
    const { examples_image: examples } = await upConfig();
    // The examples' tenant app runs the chart's default image: the same build, under both names.
    assert.ok(all.some((c) => line(c) === `docker tag ${image} ${String(examples)}`), 'up.sh tags the build with the examples\' image');
    assert.ok(all.some((c) => line(c) === `kind load docker-image --name zcsp ${image} ${String(examples)}`), 'up.sh loads both names');
  });

  it('down.sh deletes the cluster and its state folder, keeps the folder when told, and is fine with nothing to delete', async () => {
    const { env, calls, stateDir } = await world('down');
    assert.equal((await script('up.sh', [], env)).code, 0);
    const keep = await script('down.sh', ['--keep-volumes'], env);
    assert.equal(keep.code, 0, keep.stderr);
    assert.ok((await calls()).some((c) => line(c) === 'kind delete cluster --name zcsp'));
    assert.ok(existsSync(stateDir), '--keep-volumes keeps the state folder');
    const nothing = await script('down.sh', [], env);
    assert.equal(nothing.code, 0, nothing.stderr);
    assert.match(nothing.stdout, /no kind cluster zcsp: nothing to delete/);
    assert.ok(!existsSync(stateDir), 'down.sh removes the state folder');
    const wrong = await script('down.sh', ['--purge'], env);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /unknown argument "--purge"/);
  });

  it('the scripts are executable and shell-clean', async () => {
    for (const name of ['up.sh', 'down.sh', 'shim.sh']) {
      const path = join(ROOT, 'tools/kind', name);
      assert.equal(statSync(path).mode & 0o111, 0o111, `tools/kind/${name} is not executable`);
      const r = await run('bash', ['-n', path]);
      assert.equal(r.code, 0, `bash -n tools/kind/${name}: ${r.stderr}`);
    }
  });
});

/** Every expected line starts one of the calls, in this order (other calls may come between). */
function assertInOrder(calls: readonly string[], expected: readonly string[]): void {
  let at = 0;
  for (const want of expected) {
    const found = calls.findIndex((c, i) => i >= at && c.startsWith(want));
    assert.ok(found >= 0, `no call starting "${want}" after call ${at} in:\n${calls.map((c, i) => `${i}: ${c}`).join('\n')}`);
    at = found + 1;
  }
}
