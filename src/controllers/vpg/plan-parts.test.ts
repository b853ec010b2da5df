import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseObject } from '../../crds/parse.ts';
import { serviceProfileKind, type ServiceProfile } from '../../crds/service-profile.ts';
import { vpgKind, type VPG } from '../../crds/vpg.ts';
import { zorgKind, type Zorg } from '../../crds/zorg.ts';
import type { PersistentVolume, PersistentVolumeClaim, Pod } from '../../kube/objects.ts';
import { protectedNode, recoveryNode, vraPath } from './placement.ts';
import { quotaProblem, recoveryNamespacesProblem, resolveSla, zorgOf } from './sla.ts';
import { bandwidthNow, desiredSource, desiredTarget, streamToken } from './streams.ts';
import { matchesSelector, resolveVolumes } from './volumes.ts';

const GiB = 1024n ** 3n;

const zorg = (spec: Record<string, unknown> = {}): Zorg => parseObject(zorgKind, {
  apiVersion: 'zcsp.io/v1alpha1', kind: 'Zorg', metadata: { name: 'acme' },
  spec: { displayName: 'Acme', namespaces: ['acme-prod', 'acme-dr', 'acme-test'], allowedServiceProfiles: ['gold'], defaultServiceProfile: 'gold', ...spec },
});
const vpg = (spec: Record<string, unknown> = {}): VPG => parseObject(vpgKind, {
  apiVersion: 'zcsp.io/v1alpha1', kind: 'VPG', metadata: { name: 'web', namespace: 'acme-prod', uid: 'u-1' },
  spec: { protectedSite: 'prod', recoverySite: 'dr', volumes: { claimNames: ['data'] }, recovery: { namespace: 'acme-dr', testNamespace: 'acme-test' }, ...spec },
});
const gold: ServiceProfile = parseObject(serviceProfileKind, {
  apiVersion: 'zcsp.io/v1alpha1', kind: 'ServiceProfile', metadata: { name: 'gold' },
  spec: { rpoAlertSeconds: 60, journal: { historyHours: 24, hardLimit: { type: 'Percent', percent: 50 } }, checkpointIntervalSeconds: 5 },
});
const profiles = (name: string): ServiceProfile | undefined => (name === 'gold' ? gold : undefined);

describe('resolveSla', () => {
  it('gives the Zorg\'s default profile to a VPG that names none, with a Percent limit of its size', () => {
    const r = resolveSla(vpg(), zorg(), profiles, 10n * GiB);
    assert.ok('sla' in r);
    assert.equal(r.sla.profile, 'gold');
    assert.equal(r.sla.rpoAlertSeconds, 60);
    assert.equal(r.sla.hardLimitBytes, 5 * 1024 ** 3);
    assert.equal(r.sla.warningBytes, Math.floor(5 * 1024 ** 3 * 0.75), 'unset warning: 75 % of the hard limit');
    assert.equal(r.sla.limitText, '5Gi');
  });
  it('refuses a profile the Zorg does not allow, naming the field and the allowed ones', () => {
    const r = resolveSla(vpg({ serviceProfile: 'platinum' }), zorg(), profiles, 0n);
    assert.ok('blocker' in r);
    assert.equal(r.blocker.reason, 'ServiceProfileNotAllowed');
    assert.match(r.blocker.message, /^spec\.serviceProfile: platinum is not one of the profiles Zorg acme allows \(gold\)/);
  });
  it('refuses an allowed profile that does not exist', () => {
    const r = resolveSla(vpg(), zorg({ allowedServiceProfiles: ['silver'], defaultServiceProfile: 'silver' }), profiles, 0n);
    assert.ok('blocker' in r);
    assert.equal(r.blocker.reason, 'ServiceProfileNotFound');
    assert.match(r.blocker.message, /Zorg acme defaultServiceProfile: ServiceProfile silver does not exist/);
  });
  it('takes the VPG\'s own SLA only where the Zorg allows it', () => {
    const own = { sla: { rpoAlertSeconds: 30, journal: { hardLimit: { type: 'Unlimited' } } } };
    const refused = resolveSla(vpg(own), zorg(), profiles, 0n);
    assert.ok('blocker' in refused && refused.blocker.reason === 'CustomSlaNotAllowed');
    const allowed = resolveSla(vpg(own), zorg({ allowCustomSla: true }), profiles, 0n);
    assert.ok('sla' in allowed);
    assert.equal(allowed.sla.profile, undefined);
    assert.equal(allowed.sla.hardLimitBytes, undefined);
    assert.equal(allowed.sla.limitText, 'Unlimited');
  });
  it('needs a profile when none is named and there is no default', () => {
    const r = resolveSla(vpg(), zorg({ defaultServiceProfile: undefined }), profiles, 0n);
    assert.ok('blocker' in r && r.blocker.reason === 'NoServiceProfile');
  });
});

describe('tenant rules', () => {
  it('finds the Zorg of a namespace', () => {
    assert.equal(zorgOf([zorg()], 'acme-prod')?.metadata.name, 'acme');
    assert.equal(zorgOf([zorg()], 'other'), undefined);
  });
  it('refuses recovery namespaces that are not the tenant\'s', () => {
    assert.equal(recoveryNamespacesProblem(vpg(), zorg()), undefined);
    const p = recoveryNamespacesProblem(vpg({ recovery: { namespace: 'kube-public', testNamespace: 'acme-test' } }), zorg());
    assert.equal(p?.reason, 'RecoveryNamespaceNotAllowed');
    assert.match(p.message, /^spec\.recovery\.namespace: kube-public is not a namespace of Zorg acme/);
  });
  it('admits VPGs oldest first under maxProtectedSize', () => {
    const z = zorg({ quotas: { maxProtectedSize: '10Gi' } });
    assert.equal(quotaProblem(z, 4n * GiB, 6n * GiB), undefined, 'exactly at the limit');
    const p = quotaProblem(z, 4n * GiB, 7n * GiB);
    assert.equal(p?.reason, 'QuotaExceeded');
    assert.match(p.message, /7Gi more would take Zorg acme to 11Gi, over its maxProtectedSize 10Gi/);
    assert.equal(quotaProblem(zorg(), 100n * GiB, 100n * GiB), undefined, 'no quota, no limit');
  });
});

const claim = (name: string, extra: Partial<PersistentVolumeClaim> = {}): PersistentVolumeClaim => ({
  metadata: { name, namespace: 'acme-prod', labels: { app: 'web' } },
  spec: { volumeName: `pv-${name}`, resources: { requests: { storage: '1Gi' } } },
  status: { phase: 'Bound', capacity: { storage: '2Gi' } },
  ...extra,
});
const hostPathPv = (name: string, node: string): PersistentVolume => ({
  metadata: { name },
  spec: {
    hostPath: { path: `/var/lib/zcsp-local-pv/${name}/` },
    nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } },
  },
});

describe('resolveVolumes', () => {
  const pvs = new Map([['pv-data', hostPathPv('pv-data', 'prod-1')], ['pv-logs', hostPathPv('pv-logs', 'prod-2')]]);
  const lookup = (claims: PersistentVolumeClaim[], pods: Pod[] = []) => ({ claims, pv: (n: string) => pvs.get(n), pods });

  it('follows claim → PV → node and path, with the claim\'s capacity', () => {
    const r = resolveVolumes({ claimNames: ['data'] }, lookup([claim('data')]));
    assert.deepEqual(r, { volumes: [{ claimName: 'data', pvName: 'pv-data', kind: 'fs', sizeBytes: 2n * GiB, node: 'prod-1', nodePath: '/var/lib/zcsp-local-pv/pv-data' }] });
  });
  it('selects claims by labels, sorted', () => {
    const r = resolveVolumes({ selector: { matchLabels: { app: 'web' } } }, lookup([claim('logs'), claim('data'), claim('other', { metadata: { name: 'other', labels: { app: 'db' } } })]));
    assert.ok('volumes' in r);
    assert.deepEqual(r.volumes.map((v) => v.claimName), ['data', 'logs']);
  });
  it('names the claims that are missing, unbound, or whose PV is gone', () => {
    const missing = resolveVolumes({ claimNames: ['data', 'nope', 'gone'] }, lookup([claim('data')]));
    assert.ok('blocker' in missing);
    assert.equal(missing.blocker.reason, 'ClaimNotFound');
    assert.match(missing.blocker.message, /PersistentVolumeClaims gone, nope not found/);
    const pending = resolveVolumes({ claimNames: ['data'] }, lookup([claim('data', { status: { phase: 'Pending' }, spec: {} })]));
    assert.ok('blocker' in pending && pending.blocker.reason === 'ClaimNotBound');
    const nopv = resolveVolumes({ claimNames: ['x'] }, lookup([claim('x')]));
    assert.ok('blocker' in nopv && nopv.blocker.reason === 'VolumeNotFound');
    const none = resolveVolumes({ selector: { matchLabels: { app: 'none' } } }, lookup([claim('data')]));
    assert.ok('blocker' in none && none.blocker.reason === 'NoVolumes');
  });
  it('reads a CSI filesystem volume through the kubelet mount of a running pod that uses it', () => {
    pvs.set('pv-csi', { metadata: { name: 'pv-csi' }, spec: { csi: { driver: 'ebs.csi.aws.com', volumeHandle: 'vol-1' } } });
    const c = claim('csi');
    const notMounted = resolveVolumes({ claimNames: ['csi'] }, lookup([c]));
    assert.ok('blocker' in notMounted && notMounted.blocker.reason === 'VolumeNotMounted');
    const pod: Pod = { metadata: { name: 'web-0', uid: 'pod-uid' }, spec: { nodeName: 'prod-2', containers: [], volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'csi' } }] }, status: { phase: 'Running' } };
    const r = resolveVolumes({ claimNames: ['csi'] }, lookup([c], [pod]));
    assert.ok('volumes' in r);
    assert.equal(r.volumes[0]?.node, 'prod-2');
    assert.equal(r.volumes[0].nodePath, '/var/lib/kubelet/pods/pod-uid/volumes/kubernetes.io~csi/pv-csi/mount');
  });
  it('matches label selectors as Kubernetes does', () => {
    const labels = { app: 'web', tier: 'db' };
    assert.ok(matchesSelector(labels, { matchExpressions: [{ key: 'tier', operator: 'In', values: ['db', 'cache'] }] }));
    assert.ok(!matchesSelector(labels, { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] }));
    assert.ok(matchesSelector(labels, { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }));
    assert.ok(!matchesSelector(labels, { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'zone', operator: 'Exists' }] }));
  });
});

describe('placement', () => {
  const v = (claimName: string, node: string) => ({ claimName, node, pvName: '', nodePath: '', kind: 'fs' as const, sizeBytes: 0n });
  it('captures on the node of the volumes; refuses volumes on several nodes, naming where each is', () => {
    assert.deepEqual(protectedNode([v('a', 'prod-1'), v('b', 'prod-1')]), { node: 'prod-1' });
    const r = protectedNode([v('a', 'prod-1'), v('b', 'prod-2')]);
    assert.ok('blocker' in r && r.blocker.reason === 'VolumesOnSeveralNodes');
    assert.match(r.blocker.message, /a on prod-1, b on prod-2/);
  });
  it('puts the journal on the least loaded Ready VRA, then keeps it there', () => {
    const c = [
      { node: 'dr-1', exists: true, ready: true, vpgs: 2, bytes: 0n },
      { node: 'dr-2', exists: true, ready: true, vpgs: 1, bytes: 5n },
      { node: 'dr-3', exists: true, ready: false, vpgs: 0, bytes: 0n },
    ];
    assert.deepEqual(recoveryNode(undefined, c, 'dr'), { node: 'dr-2', chosen: true });
    assert.deepEqual(recoveryNode('dr-3', c, 'dr'), { node: 'dr-3', chosen: false }, 'kept even while not Ready: the journal is there');
    const gone = recoveryNode('dr-9', c, 'dr');
    assert.ok('blocker' in gone && gone.blocker.reason === 'RecoveryVraGone');
    const none = recoveryNode(undefined, c.filter((x) => !x.ready), 'dr');
    assert.ok('blocker' in none && none.blocker.reason === 'NoRecoveryVra');
  });
  it('ties break on bytes, then node name', () => {
    const c = [
      { node: 'dr-2', exists: true, ready: true, vpgs: 1, bytes: 1n },
      { node: 'dr-1', exists: true, ready: true, vpgs: 1, bytes: 1n },
      { node: 'dr-0', exists: true, ready: true, vpgs: 1, bytes: 9n },
    ];
    assert.deepEqual(recoveryNode(undefined, c, 'dr'), { node: 'dr-1', chosen: true });
  });
  it('maps a node path into the VRA only under the Site\'s readHostPaths', () => {
    assert.equal(vraPath('/var/lib/kubelet/pods/x', ['/var/lib/kubelet'], '/host'), '/host/var/lib/kubelet/pods/x');
    assert.equal(vraPath('/var/lib/kubeletx/a', ['/var/lib/kubelet'], '/host'), undefined, 'a prefix of a name is not a parent folder');
    assert.equal(vraPath('/srv/a', ['/var/lib/kubelet'], '/host'), undefined);
  });
});

describe('streams', () => {
  const sla = { profile: 'gold', rpoAlertSeconds: 60, historyHours: 24, checkpointIntervalSeconds: 5, wanCompression: true, priority: 'High' as const, hardLimitBytes: 1024 ** 3, warningBytes: 768 * 1024 ** 2, testReminderMonths: 6, limitText: '1Gi' };
  const volumes = [{ name: 'data', kind: 'fs' as const, path: '/host/var/lib/pv/data' }];
  it('derives one stream token per stream from the control token', () => {
    assert.equal(streamToken('t', 's1'), streamToken('t', 's1'));
    assert.notEqual(streamToken('t', 's1'), streamToken('t', 's2'));
    assert.notEqual(streamToken('t', 's1'), streamToken('u', 's1'));
    assert.ok(streamToken('t', 's1').length >= 16);
  });
  it('configures the target with the SLA\'s history and limits, the source with its peer through the ZCC', () => {
    const ref = { namespace: 'acme-prod', name: 'web' };
    const t = desiredTarget(ref, 'tok', volumes, sla);
    assert.deepEqual(t, { role: 'target', vpg: ref, token: 'tok', volumes: [{ name: 'data', kind: 'fs' }], historyHours: 24, hardLimitBytes: 1024 ** 3, warningBytes: 768 * 1024 ** 2 });
    const s = desiredSource(ref, 'tok', volumes, sla, {
      zccAddress: { host: '10.0.0.9', port: 9443 }, zccCa: 'ZCA', zccServername: 'zcc-acme.zcsp-system.svc', zorg: 'acme', zccToken: 'ztok',
      recoverySite: 'dr', recoveryNode: 'dr-1', vraCert: 'VCERT', vraServername: 'vra.zcsp.io',
    }, 25_000_000);
    assert.deepEqual(s.peer.zcc?.target, { site: 'dr', node: 'dr-1' });
    assert.equal(s.peer.ca, 'VCERT');
    assert.equal(s.checkpointIntervalMs, 5000);
    assert.equal(s.bandwidthBytesPerSecond, 25_000_000);
  });
  it('applies the bandwidth limit in its window only, and says when that changes', () => {
    const bw = { limitMbps: 200, window: { start: '08:00', end: '18:00', timeZone: 'Europe/Berlin' } };
    const inside = bandwidthNow(bw, new Date('2026-07-01T10:00:00Z')); // 12:00 in Berlin (CEST)
    assert.equal(inside.bytesPerSecond, 25_000_000);
    assert.equal(inside.changesInMs, 6 * 3600_000, 'until 18:00 Berlin');
    const outside = bandwidthNow(bw, new Date('2026-07-01T20:30:00Z')); // 22:30 Berlin
    assert.equal(outside.bytesPerSecond, undefined);
    assert.equal(outside.changesInMs, 9.5 * 3600_000, 'until 08:00 Berlin');
    const overnight = { limitMbps: 8, window: { start: '22:00', end: '06:00', timeZone: 'UTC' } };
    assert.equal(bandwidthNow(overnight, new Date('2026-07-01T23:00:00Z')).bytesPerSecond, 1_000_000);
    assert.equal(bandwidthNow(overnight, new Date('2026-07-01T12:00:00Z')).bytesPerSecond, undefined);
    assert.deepEqual(bandwidthNow(undefined, new Date()), { bytesPerSecond: undefined, changesInMs: undefined });
    const bad = bandwidthNow({ limitMbps: 8, window: { start: '22:00', end: '06:00', timeZone: 'Mars/Olympus' } }, new Date());
    assert.equal(bad.bytesPerSecond, 1_000_000, 'an unknown zone limits all day');
    assert.match(bad.problem ?? '', /Mars\/Olympus is not a known IANA time zone/);
  });
});
