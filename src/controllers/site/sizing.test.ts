// A Site's capacity figures and its CapacitySufficient condition, from its VPGs' status.sizing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CustomObject } from '../../runtime/index.ts';
import { estimate } from '../../sizing/index.ts';
import { siteSizing, sitesOfVpg } from './sizing.ts';
import { siteStatus } from './status.ts';

const GiB = 2 ** 30;

/** A VPG from `from` to `to` whose status.sizing is the report for `protectedGiB` changing `sentGiBPerHour`. */
function vpg(name: string, from: string, to: string, protectedGiB: number, sentGiBPerHour: number | undefined): CustomObject {
  const report = sentGiBPerHour === undefined ? undefined : estimate({
    protectedBytes: protectedGiB * GiB, averageChangeBytesPerHour: sentGiBPerHour * GiB, peakChangeBytesPerHour: sentGiBPerHour * GiB,
    compressionRatio: 1, historyHours: 24, hardLimit: { type: 'Unlimited' }, rpoSeconds: 300, reverseProtection: true,
  });
  return {
    apiVersion: 'zcsp.io/v1alpha1', kind: 'VPG', metadata: { name, namespace: 'acme-prod' },
    spec: { protectedSite: from, recoverySite: to },
    ...(report !== undefined && { status: { sizing: { basis: { source: 'Measured', measuredSeconds: 3600 }, ...report } } }),
  };
}

describe('siteSizing', () => {
  const vpgs = [vpg('a', 'prod', 'dr', 100, 1), vpg('b', 'prod', 'dr', 50, 0.5), vpg('c', 'dr', 'prod', 10, 0.1), vpg('new', 'prod', 'dr', 10, undefined)];

  it('sums the VPGs recovering to the site and those protected at it, apart; a VPG without figures does not count', () => {
    const dr = siteSizing(vpgs, 'dr', 200n * BigInt(GiB), 2);
    assert.ok(dr !== undefined);
    assert.equal(dr.asRecoverySite.vpgs, 2);
    assert.equal(dr.asRecoverySite.replicaBytes, 150 * GiB);
    // 24 h × (1 + 0.5) GiB/h of journal.
    assert.equal(dr.asRecoverySite.journalProjectedBytes, 36 * GiB);
    assert.equal(dr.asProtectedSite.vpgs, 1);
    assert.equal(dr.asProtectedSite.protectedBytes, 10 * GiB);
    assert.equal(dr.vraCapacityBytes, 400 * GiB);
    assert.equal(siteSizing(vpgs, 'elsewhere', 1n, 1), undefined);
    assert.deepEqual(sitesOfVpg(vpgs[0] ?? vpg('x', '', '', 0, 0)), ['prod', 'dr']);
  });

  it('says whether the VRA volumes hold the replicas and journals of the VPGs recovering there', () => {
    const status = (capacityGiB: number) => siteStatus({
      previous: undefined, generation: 1, selector: { site: 'dr' }, reports: [], orphaned: [],
      sizing: siteSizing(vpgs, 'dr', BigInt(capacityGiB) * BigInt(GiB), 1),
    });
    const condition = (s: Record<string, unknown>) => (s['conditions'] as { type: string; status: string; reason: string; message: string }[]).find((c) => c.type === 'CapacitySufficient');
    // Steady: 150 GiB of replicas + 36 GiB of journals + 2 × 256 MiB of journal files = 186.5 GiB,
    // about 187Gi; during tests + 2 × 150 GiB.
    assert.equal(condition(status(1000))?.reason, 'WithinCapacity');
    assert.equal(condition(status(300))?.reason, 'TestsOverCapacity');
    const over = condition(status(100));
    assert.equal(`${over?.status ?? ''}/${over?.reason ?? ''}`, 'False/ProjectedOverCapacity');
    assert.match(over?.message ?? '', /2 VPGs recovering here need about 187Gi .* of the VRA volumes' 100Gi: grow spec.vra.storage.size/);
    const none = siteStatus({ previous: undefined, generation: 1, selector: { site: 'x' }, reports: [], orphaned: [] });
    assert.equal(condition(none), undefined, 'no figures, no verdict');
  });
});
