// What the operator tells a VRA about one VPG stream (PUT /v1/streams/{id}). Both ends of a VPG
// get a stream with the same id and token: the protected node's VRA as `source`, the recovery
// node's as `target`. A VPG being assessed (sized before it is protected) gets one `assess` stream
// on the protected node instead: it measures the volumes' change rate and ships nothing, so it has
// no token and no peer. Checked with zod so a bad configuration is refused with the field named,
// and stored as given (streams/{id}/config.json) so a restarted VRA resumes its streams.
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { volumeNameProblem } from '../replicator/paths.ts';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** A stream id: the VPG's uid in practice; a DNS subdomain so it can name a folder and a label. */
export const streamId = z.string().min(1).max(253).regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be lowercase letters, digits, "-" and "."');

const volumeName = z.string().refine((v) => volumeNameProblem(v) === undefined, { error: 'must be a DNS subdomain (the PVC name)' });

const hook = z.strictObject({
  command: z.array(z.string().min(1)).min(1).max(64),
  timeoutMs: z.number().int().min(100).max(600_000).default(30_000),
});

const pem = z.string().min(1).max(64 * 1024).refine((v) => v.includes('-----BEGIN CERTIFICATE-----'), { error: 'must be a PEM certificate' });

const endpoint = z.strictObject({
  host: z.string().min(1).max(253),
  port: z.number().int().min(1).max(65535),
});

const vpgRef = z.strictObject({ namespace: z.string().min(1).max(63), name: z.string().min(1).max(253) });

const common = {
  vpg: vpgRef,
  /** The stream's credential: the source presents it in HELLO, the target checks it. */
  token: z.string().min(16).max(512),
};

const capturedVolumes = z.array(z.strictObject({
  name: volumeName,
  kind: z.enum(['fs', 'block']),
  /** Where this node sees the volume: a folder (fs) or an image file or device (block). */
  path: z.string().refine(isAbsolute, { error: 'must be an absolute path' }),
})).min(1).max(256);

/**
 * The length of the change rate's buckets (src/vra/change-rate.ts): the peak is the busiest one.
 * Five minutes; shorter only to see a peak sooner (tests).
 */
const changeRateBucketSeconds = z.number().int().min(1).max(3600).default(300);

export const sourceConfig = z.strictObject({
  role: z.literal('source'),
  ...common,
  volumes: capturedVolumes,
  peer: z.strictObject({
    /** The recovery VRA, or the tenant's ZCC when `zcc` is set. */
    address: endpoint,
    /** The recovery VRA's certificate (pinned) and the name in it. */
    ca: pem,
    servername: z.string().min(1).max(253),
    /** Reach the recovery VRA through the tenant's connector (a tunnel, TLS end to end inside). */
    zcc: z.strictObject({
      ca: pem,
      servername: z.string().min(1).max(253),
      zorg: z.string().min(1).max(253),
      token: z.string().min(1).max(512),
      target: z.strictObject({ site: z.string().min(1).max(253), node: z.string().min(1).max(253) }),
    }).optional(),
  }),
  checkpointIntervalMs: z.number().int().min(500).max(3_600_000).default(5000),
  bufferBytes: z.number().int().min(MiB).max(4 * GiB).default(64 * MiB),
  /** How long a full buffer may stall a pass before it gives up and leaves the rest to bitmap sync. */
  stallMs: z.number().int().min(100).max(600_000).default(10_000),
  compress: z.boolean().default(true),
  bandwidthBytesPerSecond: z.number().int().min(1024).optional(),
  watch: z.boolean().default(true),
  hooks: z.strictObject({ pre: hook.optional(), post: hook.optional() }).optional(),
  changeRateBucketSeconds,
});

/**
 * Measures the volumes' change rate as a source would ship it, shipping nothing: the same captures
 * pass over the volumes every checkpointIntervalMs, each record is encoded as the sender would
 * (compress) to be counted, then dropped. The first complete pass of a volume is its baseline.
 */
export const assessConfig = z.strictObject({
  role: z.literal('assess'),
  vpg: vpgRef,
  volumes: capturedVolumes,
  checkpointIntervalMs: z.number().int().min(500).max(3_600_000).default(5000),
  compress: z.boolean().default(true),
  watch: z.boolean().default(true),
  changeRateBucketSeconds,
});

export const targetConfig = z.strictObject({
  role: z.literal('target'),
  ...common,
  volumes: z.array(z.strictObject({ name: volumeName, kind: z.enum(['fs', 'block']) })).min(1).max(256),
  /**
   * Volumes whose replica starts from a local copy on this node (reverse protection after a
   * failover: the old source volume) instead of everything sent over the network: the path is a
   * folder (fs) or an image file or device (block) this VRA reads. Applies only when the volume's
   * replica is created (a new stream, or a volume added to it); ignored for a volume the replica
   * already has, so it may stay in the configuration or go. See src/replicator/README.md.
   */
  seed: z.array(z.strictObject({
    volume: volumeName,
    path: z.string().min(1).max(4096).refine(isAbsolute, { error: 'must be an absolute path' }),
  })).max(256).optional(),
  /** Caps how fast a seed reads its local copy (the node's disk is shared); default: no cap. */
  seedBytesPerSecond: z.number().int().min(64 * 1024).optional(),
  historyHours: z.number().min(1 / 60).max(720).default(24),
  hardLimitBytes: z.number().int().min(MiB).optional(),
  warningBytes: z.number().int().min(MiB).optional(),
  retentionIntervalMs: z.number().int().min(100).max(3_600_000).default(10_000),
}).refine((c) => c.warningBytes === undefined || c.hardLimitBytes === undefined || c.warningBytes < c.hardLimitBytes, {
  error: 'must be below hardLimitBytes', path: ['warningBytes'],
});

export const streamConfig = z.discriminatedUnion('role', [sourceConfig, targetConfig, assessConfig]);

export type SourceConfig = z.output<typeof sourceConfig>;
export type TargetConfig = z.output<typeof targetConfig>;
export type AssessConfig = z.output<typeof assessConfig>;
export type StreamConfig = z.output<typeof streamConfig>;
export type StreamConfigInput = z.input<typeof streamConfig>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses a configuration; the error lists every problem as "field: what is wrong". */
export function parseStreamConfig(value: unknown): StreamConfig {
  const result = streamConfig.safeParse(value);
  if (result.success) {
    const problems: string[] = [];
    const names = new Map<string, number>();
    const paths = new Map<string, number>();
    for (const [i, v] of result.data.volumes.entries()) {
      const same = names.get(v.name);
      if (same !== undefined) problems.push(`volumes.${i}.name: ${v.name} is already the name of volumes.${same} (a volume renamed must take a name no other volume has)`);
      names.set(v.name, i);
    }
    if (result.data.role === 'target') {
      const seeded = new Map<string, number>();
      for (const [i, seed] of (result.data.seed ?? []).entries()) {
        if (!names.has(seed.volume)) problems.push(`seed.${i}.volume: ${seed.volume} is not a volume of the stream`);
        const twice = seeded.get(seed.volume);
        if (twice !== undefined) problems.push(`seed.${i}.volume: ${seed.volume} is already seeded by seed.${twice}`);
        seeded.set(seed.volume, i);
      }
    }
    if (result.data.role === 'source' || result.data.role === 'assess') {
      for (const [i, v] of result.data.volumes.entries()) {
        const twice = paths.get(v.path);
        if (twice !== undefined) problems.push(`volumes.${i}.path: ${v.path} is already the path of volumes.${twice}`);
        paths.set(v.path, i);
      }
    }
    if (problems.length > 0) throw new ConfigError(problems.join('; '));
    return result.data;
  }
  // An unknown field is named at its own path (a token given to an assessment: `token`).
  const role = typeof value === 'object' && value !== null && 'role' in value ? value.role : undefined;
  const of = typeof role === 'string' ? ` for role ${role}` : '';
  const problems = result.error.issues.flatMap((i) => (i.code === 'unrecognized_keys'
    ? i.keys.map((key) => `${[...i.path, key].join('.')}: unknown field${i.path.length === 0 ? of : ''}`)
    : [`${i.path.length > 0 ? i.path.join('.') : '(config)'}: ${i.message}`]));
  throw new ConfigError(problems.join('; '));
}

/**
 * The seeds that apply when `config` is given to a replica that has the volumes `existing`: those
 * of volumes it does not have yet (a seed fills only a replica it creates), with each one's index
 * in `seed` (for errors) and the volume's kind.
 */
export function seedsToApply(config: TargetConfig, existing: ReadonlySet<string>): { index: number; volume: string; kind: 'fs' | 'block'; path: string }[] {
  const kinds = new Map(config.volumes.map((v) => [v.name, v.kind]));
  const out: { index: number; volume: string; kind: 'fs' | 'block'; path: string }[] = [];
  for (const [index, s] of (config.seed ?? []).entries()) {
    const kind = kinds.get(s.volume);
    if (kind !== undefined && !existing.has(s.volume)) out.push({ index, volume: s.volume, kind, path: s.path });
  }
  return out;
}

/**
 * Why `next` cannot follow `current` for the same stream, or undefined. Volumes may be added,
 * removed, or (source) moved to another path; a volume keeps its kind for as long as it is in the
 * stream, since its replica and journal hold data of that kind.
 */
export function volumeChangeProblem(current: StreamConfig, next: StreamConfig): string | undefined {
  const kinds = new Map<string, 'fs' | 'block'>(current.volumes.map((v) => [v.name, v.kind]));
  const problems: string[] = [];
  for (const [i, v] of next.volumes.entries()) {
    const was = kinds.get(v.name);
    if (was !== undefined && was !== v.kind) {
      problems.push(`volumes.${i}.kind: volume ${v.name} is a ${was} volume of this stream and cannot become ${v.kind}; remove it from the stream first (its replica data goes), then add it again`);
    }
  }
  return problems.length > 0 ? problems.join('; ') : undefined;
}
