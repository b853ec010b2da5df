// The two ends of a VPG's replication stream, as the VRAs' control API takes them
// (src/vra/stream-config.ts): the recovery VRA's target (journal and replica, the SLA's history
// and limits) and the protected VRA's source (the volumes, the peer reached through the tenant's
// ZCC, the checkpoint interval, compression and the site's bandwidth limit).
import { createHmac } from 'node:crypto';
import type { Site } from '../../crds/site.ts';
import type { SourceConfig, StreamConfigInput, TargetConfig } from '../../vra/stream-config.ts';
import type { EffectiveSla } from './sla.ts';

/**
 * The stream's credential, the same on both VRAs: derived from the operator's VRA control token
 * and the stream id, so it needs no storage of its own and survives operator restarts. VRAs hold
 * the control token already; tenants never see either.
 */
export function streamToken(controlToken: string, streamId: string): string {
  return createHmac('sha256', controlToken).update(`zcsp stream ${streamId}`).digest('base64url');
}

export interface StreamVolume {
  name: string;
  kind: 'fs' | 'block';
  /** Where the source VRA reads it. */
  path: string;
}

export interface Peer {
  /** A Ready connector pod of the tenant's ZCC. */
  zccAddress: { host: string; port: number };
  zccCa: string;
  zccServername: string;
  zorg: string;
  zccToken: string;
  recoverySite: string;
  recoveryNode: string;
  /** The recovery VRA's certificate (pinned by the source) and its name. */
  vraCert: string;
  vraServername: string;
}

type VpgRef = { namespace: string; name: string };

/** `seed`: a reverse VPG's target starts its replica from these local paths (the VRA seeds a fresh volume only). */
export function desiredTarget(vpg: VpgRef, token: string, volumes: readonly StreamVolume[], sla: EffectiveSla, seed?: readonly { volume: string; path: string }[]): Extract<StreamConfigInput, { role: 'target' }> {
  return {
    ...(seed !== undefined && seed.length > 0 && { seed: seed.map((s) => ({ ...s })) }),
    role: 'target',
    vpg,
    token,
    volumes: volumes.map((v) => ({ name: v.name, kind: v.kind })),
    historyHours: sla.historyHours,
    ...(sla.hardLimitBytes !== undefined && { hardLimitBytes: sla.hardLimitBytes }),
    ...(sla.warningBytes !== undefined && { warningBytes: sla.warningBytes }),
  } satisfies Partial<TargetConfig>;
}

export function desiredSource(vpg: VpgRef, token: string, volumes: readonly StreamVolume[], sla: EffectiveSla, peer: Peer, bandwidthBytesPerSecond: number | undefined): Extract<StreamConfigInput, { role: 'source' }> {
  return {
    role: 'source',
    vpg,
    token,
    volumes: volumes.map((v) => ({ name: v.name, kind: v.kind, path: v.path })),
    peer: {
      address: peer.zccAddress,
      ca: peer.vraCert,
      servername: peer.vraServername,
      zcc: {
        ca: peer.zccCa,
        servername: peer.zccServername,
        zorg: peer.zorg,
        token: peer.zccToken,
        target: { site: peer.recoverySite, node: peer.recoveryNode },
      },
    },
    checkpointIntervalMs: sla.checkpointIntervalSeconds * 1000,
    compress: sla.wanCompression,
    ...(bandwidthBytesPerSecond !== undefined && { bandwidthBytesPerSecond }),
  } satisfies Partial<SourceConfig>;
}

/**
 * spec.mode Assess: the protected VRA passes over the volumes at the SLA's checkpoint interval (so a
 * block rewritten within one interval counts once, as protection would ship it once), measures what
 * it would send, compressed as the SLA says, and sends nothing.
 */
export function desiredAssess(vpg: VpgRef, volumes: readonly StreamVolume[], sla: EffectiveSla): Extract<StreamConfigInput, { role: 'assess' }> {
  return {
    role: 'assess',
    vpg,
    volumes: volumes.map((v) => ({ name: v.name, kind: v.kind, path: v.path })),
    checkpointIntervalMs: sla.checkpointIntervalSeconds * 1000,
    compress: sla.wanCompression,
  };
}

/**
 * The protected site's bandwidth limit now, in bytes per second: undefined when it has none or
 * `now` is outside its daily window. Also when the limit next changes, so the controller can
 * reconfigure the source then.
 */
export function bandwidthNow(bandwidth: Site['spec']['bandwidth'], now: Date): { bytesPerSecond: number | undefined; changesInMs: number | undefined; problem?: string } {
  if (bandwidth === undefined) return { bytesPerSecond: undefined, changesInMs: undefined };
  const bytesPerSecond = Math.floor((bandwidth.limitMbps * 1_000_000) / 8);
  const w = bandwidth.window;
  if (w === undefined) return { bytesPerSecond, changesInMs: undefined };
  let minute: number;
  try {
    minute = minuteOfDay(now, w.timeZone);
  } catch {
    // Not a time zone this runtime knows: limit all day rather than not at all.
    return { bytesPerSecond, changesInMs: undefined, problem: `spec.bandwidth.window.timeZone: ${w.timeZone} is not a known IANA time zone; the limit applies all day` };
  }
  const start = hhmm(w.start);
  const end = hhmm(w.end);
  const inside = start < end ? minute >= start && minute < end : minute >= start || minute < end;
  const next = inside ? end : start;
  const minutesUntil = (next - minute + 1440) % 1440 || 1440;
  // Whole minutes from the start of the current one: a little late is fine, early is not.
  const changesInMs = minutesUntil * 60_000 - (now.getUTCSeconds() * 1000 + now.getUTCMilliseconds());
  return { bytesPerSecond: inside ? bytesPerSecond : undefined, changesInMs: Math.max(1000, changesInMs) };
}

function hhmm(text: string): number {
  const [h = '0', m = '0'] = text.split(':');
  return Number(h) * 60 + Number(m);
}

/** Minutes since midnight at `now` in an IANA time zone. */
function minuteOfDay(now: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(now);
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? '0');
  return get('hour') * 60 + get('minute');
}
