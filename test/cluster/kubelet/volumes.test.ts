import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoreV1Api, V1PersistentVolume, V1PersistentVolumeClaim, V1Pod, V1Volume } from '@kubernetes/client-node';
import { nodePath } from '../layout.ts';
import { staticConfigSource } from './config-source.ts';
import { resolveSubPath } from './container-spec.ts';
import { ContainerConfigError } from './env.ts';
import { ServiceAccountTokens } from './tokens.ts';
import { VolumeNotReadyError } from './volume-payload.ts';
import { podDirectory, setUpDefaultServiceAccountVolume, setUpVolumes, type VolumeContext } from './volumes.ts';

/** Just the reads volumes.ts makes, answering from maps; 404s look like client-node's ApiException. */
function fakeCore(objects: { claims?: Record<string, V1PersistentVolumeClaim>; volumes?: Record<string, V1PersistentVolume> }): CoreV1Api {
  const notFound = (what: string) => Object.assign(new Error(`${what} not found`), { code: 404 });
  const api = {
    readNamespacedPersistentVolumeClaim: ({ name, namespace }: { name: string; namespace: string }) => {
      const claim = objects.claims?.[`${namespace}/${name}`];
      return claim === undefined ? Promise.reject(notFound(name)) : Promise.resolve(claim);
    },
    readPersistentVolume: ({ name }: { name: string }) => {
      const pv = objects.volumes?.[name];
      return pv === undefined ? Promise.reject(notFound(name)) : Promise.resolve(pv);
    },
    createNamespacedServiceAccountToken: ({ body }: { body: { spec: { boundObjectRef: { name: string } } } }) =>
      Promise.resolve({ status: { token: `token-of-${body.spec.boundObjectRef.name}`, expirationTimestamp: new Date(Date.now() + 3600_000) } }),
  };
  return api as unknown as CoreV1Api;
}

const pod: V1Pod = { metadata: { name: 'web-0', namespace: 'shop', uid: 'u-1', labels: { app: 'web' } }, spec: { containers: [{ name: 'main' }] } };

describe('setUpVolumes', () => {
  let clusterDir: string;
  let ctx: VolumeContext;
  let claims: Record<string, V1PersistentVolumeClaim>;

  before(async () => {
    clusterDir = await mkdtemp(join(tmpdir(), 'zcsp-volumes-'));
    claims = {};
    const core = fakeCore({
      claims,
      volumes: {
        'pv-1': { spec: { hostPath: { path: '/var/lib/pv/pv-1', type: 'DirectoryOrCreate' } } },
        'pv-local': { spec: { local: { path: '/mnt/disk' } } },
      },
    });
    await writeFile(join(clusterDir, 'ca.crt'), 'CA PEM');
    ctx = {
      pod,
      podDir: podDirectory(join(clusterDir, 'kubelet'), pod),
      clusterDir,
      nodeName: 'node-a',
      core,
      source: staticConfigSource({ configMaps: { 'shop/settings': { 'app.yaml': 'a: 1', other: 'x' } }, secrets: { 'shop/creds': { password: 's3cret' } } }),
      tokens: new ServiceAccountTokens(core),
      runtime: { podIPs: ['127.0.41.2'], hostIPs: ['127.0.41.1'] },
      allocatable: { cpu: '2', memory: '8Gi', 'ephemeral-storage': '100Gi' },
      caFile: join(clusterDir, 'ca.crt'),
    };
  });
  after(async () => {
    await rm(clusterDir, { recursive: true, force: true });
  });

  const setUp = (volumes: V1Volume[]) => setUpVolumes(ctx, volumes);

  it('puts hostPath volumes under the node root and honours their type', async () => {
    const volumes = await setUp([
      { name: 'made', hostPath: { path: '/var/lib/app', type: 'DirectoryOrCreate' } },
      { name: 'untyped', hostPath: { path: '/srv/data' } },
      { name: 'file', hostPath: { path: '/run/app.lock', type: 'FileOrCreate' } },
    ]);
    assert.equal(volumes.get('made')?.path, nodePath(clusterDir, 'node-a', '/var/lib/app'));
    assert.equal((await stat(nodePath(clusterDir, 'node-a', '/var/lib/app'))).isDirectory(), true);
    assert.equal(volumes.get('untyped')?.kind, 'dir');
    assert.equal(volumes.get('file')?.kind, 'file');
    await assert.rejects(setUp([{ name: 'missing', hostPath: { path: '/nope', type: 'Directory' } }]), /hostPath type check failed: \/nope is not a directory/);
    await assert.rejects(setUp([{ name: 'notfile', hostPath: { path: '/var/lib/app', type: 'File' } }]), /is not a file/);
  });

  it('writes configMap, secret and downwardAPI volumes read-only in the pod folder', async () => {
    const volumes = await setUp([
      { name: 'cfg', configMap: { name: 'settings', items: [{ key: 'app.yaml', path: 'conf/app.yaml' }] } },
      { name: 'sec', secret: { secretName: 'creds', defaultMode: 0o400 } },
      { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
      { name: 'scratch', emptyDir: {} },
    ]);
    const cfg = volumes.get('cfg');
    assert.equal(cfg?.path, join(ctx.podDir, 'volumes/kubernetes.io~configmap/cfg'));
    assert.equal(cfg.readOnly, true);
    assert.equal(await readFile(join(cfg.path, 'conf/app.yaml'), 'utf8'), 'a: 1');
    const sec = volumes.get('sec');
    assert.ok(sec);
    assert.equal(await readFile(join(sec.path, 'password'), 'utf8'), 's3cret');
    assert.equal((await stat(join(sec.path, 'password'))).mode & 0o777, 0o400);
    assert.equal(await readFile(join(volumes.get('info')?.path ?? '', 'labels'), 'utf8'), 'app="web"');
    assert.equal(volumes.get('scratch')?.path, join(ctx.podDir, 'volumes/kubernetes.io~empty-dir/scratch'));
    await assert.rejects(setUp([{ name: 'cfg', configMap: { name: 'absent' } }]), (err: unknown) => {
      assert.ok(err instanceof VolumeNotReadyError);
      assert.equal(err.message, 'MountVolume.SetUp failed for volume "cfg" : configmap "absent" not found');
      return true;
    });
  });

  it('waits for a claim to be bound, then mounts its PV on this node', async () => {
    await assert.rejects(setUp([{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }]), /persistentvolumeclaim "data" not found/);
    claims['shop/data'] = { spec: {}, status: { phase: 'Pending' } };
    await assert.rejects(setUp([{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }]), /PersistentVolumeClaim "data" is not bound yet/);
    claims['shop/data'] = { spec: { volumeName: 'pv-1' }, status: { phase: 'Bound' } };
    const volumes = await setUp([{ name: 'data', persistentVolumeClaim: { claimName: 'data', readOnly: true } }]);
    assert.deepEqual(volumes.get('data'), { name: 'data', path: nodePath(clusterDir, 'node-a', '/var/lib/pv/pv-1'), kind: 'dir', readOnly: true, managed: false });
    claims['shop/local'] = { spec: { volumeName: 'pv-local' }, status: { phase: 'Bound' } };
    await assert.rejects(setUp([{ name: 'l', persistentVolumeClaim: { claimName: 'local' } }]), /\/mnt\/disk is not a directory/, 'a local PV path must exist');
  });

  it('refuses volume types the node cannot provide', async () => {
    await assert.rejects(setUp([{ name: 'x', nfs: { server: 'nfs', path: '/' } }]), /volume type "nfs" is not supported/);
  });

  it('makes the default service account volume: bound token, CA and namespace', async () => {
    const sa = await setUpDefaultServiceAccountVolume(ctx);
    assert.equal(await readFile(join(sa.path, 'token'), 'utf8'), 'token-of-web-0');
    assert.equal(await readFile(join(sa.path, 'ca.crt'), 'utf8'), 'CA PEM');
    assert.equal(await readFile(join(sa.path, 'namespace'), 'utf8'), 'shop');
    assert.equal(await readlink(join(sa.path, 'token')), '..data/token');
  });
});

describe('resolveSubPath', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'zcsp-subpath-'));
    await mkdir(join(dir, 'vol'));
    await writeFile(join(dir, 'outside'), 'secret');
    await symlink('../outside', join(dir, 'vol', 'escape'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const volume = () => ({ name: 'v', path: join(dir, 'vol'), kind: 'dir' as const, readOnly: false, managed: false });

  it('creates a missing subPath folder in a writable volume', async () => {
    assert.deepEqual(await resolveSubPath(volume(), 'a/b'), { source: join(dir, 'vol', 'a', 'b'), kind: 'dir' });
  });

  it('refuses paths that leave the volume, also through a symlink', async () => {
    await assert.rejects(resolveSubPath(volume(), '../x'), ContainerConfigError);
    await assert.rejects(resolveSubPath(volume(), '/abs'), ContainerConfigError);
    await assert.rejects(resolveSubPath(volume(), 'escape'), /leaves volume "v"/);
    await assert.rejects(resolveSubPath({ ...volume(), managed: true }, 'missing'), /does not exist in volume/);
  });
});
