// The replica's committed state: appliedSeq, the checkpoint it is at, its volumes and each
// filesystem volume's namespace, in one JSON file replaced atomically (temp, fsync, rename, fsync
// of the folder) so a crash leaves either the old state or the new one. Volumes come and go while
// the stream runs: which records belong to which volume's current life is decided here
// (recordFate), and which checkpoints hold a volume (coverageProblem).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDir, writeFileDurably } from '../durable.ts';
import { BLOCK_HASH } from '../hash.ts';
import { volumeNameProblem } from '../paths.ts';
import { ReplicaError } from './errors.ts';
import { Namespace, type NamespaceJson } from './namespace.ts';

export type VolumeKind = 'fs' | 'block';

export interface AppliedCheckpoint {
  seq: number;
  time: number;
  tag: string;
  volumes: readonly { volume: string; digest: Uint8Array }[];
}

/**
 * A volume whose first content comes from a local copy on this host (seed.ts) rather than over the
 * network. `pending`: the replica holds nothing of it yet and the source may not sync it (its
 * manifest is refused) until the seed is done; `failed`: it starts empty (a full sync).
 */
export interface SeedState {
  path: string;
  state: 'pending' | 'done' | 'failed';
  error?: string;
}

export interface VolumeState {
  kind: VolumeKind;
  /** Filesystem volumes only. */
  ns?: Namespace;
  /** Block volumes only: the last digest op on the image. */
  digest?: { size: number; digest: Uint8Array };
  /**
   * Records of this volume up to this seq are not this volume's: they were journaled before it
   * was added or attached (a removed volume of the same name, or records sent before the source
   * synced it). 0 for a volume there from the start.
   */
  since: number;
  /**
   * False from when the volume is added to a stream that already has records until the source
   * asks for its manifest (it then syncs it from what the replica has): until then the source's
   * records for it are refused (they could only come from an older life of the name).
   */
  attached: boolean;
  /** Set when the volume was created with a seed (kept after it is done, for status). */
  seed?: SeedState;
}

export interface ReplicaState {
  appliedSeq: number;
  /**
   * An apply through this seq has started changing objects and has not committed: the objects
   * are ahead of the namespace, so it must finish before anything reads them.
   */
  pending: number | undefined;
  checkpoint: AppliedCheckpoint | undefined;
  volumes: Map<string, VolumeState>;
  /**
   * Volumes removed from the stream, by kind: the journal may still hold their records (and the
   * source may still send some until it is reconfigured too); they are skipped, never applied.
   */
  retired: Map<string, VolumeKind>;
}

/**
 * What apply, materialise and verify do with a record of `volume` at `seq`: apply it, skip it
 * (a removed volume's, or from before the volume's current life), or undefined: no volume of that
 * name was ever here (a bad record).
 */
export function recordFate(state: ReplicaState, volume: string, seq: number): 'apply' | 'skip' | undefined {
  const v = state.volumes.get(volume);
  if (v !== undefined) return v.attached && seq > v.since ? 'apply' : 'skip';
  return state.retired.has(volume) ? 'skip' : undefined;
}

/**
 * Why checkpoint `cp` cannot give `volume` back, or undefined when it can: the volume must be in
 * the replica now, attached before the checkpoint, and listed in it (the source lists only the
 * volumes its pass completed).
 */
export function coverageProblem(state: ReplicaState, cp: { seq: number; volumes: readonly { volume: string }[] }, volume: string): string | undefined {
  const v = state.volumes.get(volume);
  if (v === undefined) return state.retired.has(volume) ? `volume ${volume} was removed from the stream (its data is gone)` : `the replica has no volume ${volume}`;
  if (v.seed?.state === 'pending') return `volume ${volume} is being seeded from a local copy (${v.seed.path}); the source syncs it once that is done`;
  if (!v.attached) return `volume ${volume} was added to the stream and the source has not synced it yet`;
  if (cp.seq <= v.since) return `checkpoint ${cp.seq} was taken before volume ${volume} joined the stream (at seq ${v.since})`;
  if (!cp.volumes.some((x) => x.volume === volume)) return `checkpoint ${cp.seq} does not hold volume ${volume}: its first sync had not finished then`;
  return undefined;
}

interface StateJson {
  format: typeof STATE_FORMAT;
  appliedSeq: number;
  pending?: number;
  checkpoint: { seq: number; time: number; tag: string; volumes: { volume: string; digest: string }[] } | null;
  volumes: { name: string; kind: string; namespace?: NamespaceJson; digest?: [number, string]; since?: number; attached?: false; seed?: SeedState }[];
  retired?: [string, string][];
}

export const STATE_FILE = 'replica.json';
/**
 * 2: digests are over XXH3-128 block hashes (../hash.ts). A format-1 state (SHA-256) is refused
 * with a message that says so: its digests, and those in its journal, would all fail verify.
 */
export const STATE_FORMAT = 2;

export function cloneState(state: ReplicaState): ReplicaState {
  const volumes = new Map<string, VolumeState>();
  for (const [name, v] of state.volumes) {
    const copy: VolumeState = { kind: v.kind, since: v.since, attached: v.attached };
    if (v.ns !== undefined) copy.ns = v.ns.clone();
    if (v.digest !== undefined) copy.digest = v.digest;
    if (v.seed !== undefined) copy.seed = { ...v.seed };
    volumes.set(name, copy);
  }
  return { appliedSeq: state.appliedSeq, pending: state.pending, checkpoint: state.checkpoint, volumes, retired: new Map(state.retired) };
}

function toJson(state: ReplicaState): StateJson {
  const cp = state.checkpoint;
  return {
    format: STATE_FORMAT,
    appliedSeq: state.appliedSeq,
    ...(state.pending !== undefined && { pending: state.pending }),
    checkpoint: cp === undefined ? null : { seq: cp.seq, time: cp.time, tag: cp.tag, volumes: cp.volumes.map((v) => ({ volume: v.volume, digest: Buffer.from(v.digest).toString('hex') })) },
    volumes: [...state.volumes].map(([name, v]) => {
      const out: StateJson['volumes'][number] = { name, kind: v.kind };
      if (v.ns !== undefined) out.namespace = v.ns.toJSON();
      if (v.digest !== undefined) out.digest = [v.digest.size, Buffer.from(v.digest.digest).toString('hex')];
      if (v.since !== 0) out.since = v.since;
      if (!v.attached) out.attached = false;
      if (v.seed !== undefined) out.seed = v.seed;
      return out;
    }),
    ...(state.retired.size > 0 && { retired: [...state.retired] }),
  };
}

export async function writeState(dir: string, state: ReplicaState): Promise<void> {
  await writeFileDurably(join(dir, STATE_FILE), JSON.stringify(toJson(state)));
}

export { syncDir };

function readSeed(json: unknown): SeedState | false {
  if (typeof json !== 'object' || json === null) return false;
  const { path, state, error } = json as Partial<Record<keyof SeedState, unknown>>;
  if (typeof path !== 'string' || (state !== 'pending' && state !== 'done' && state !== 'failed')) return false;
  if (error !== undefined && typeof error !== 'string') return false;
  return { path, state, ...(error !== undefined && { error }) };
}

/** The committed state, or undefined when the folder holds no replica yet. */
export async function readState(dir: string): Promise<ReplicaState | undefined> {
  const path = join(dir, STATE_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const bad = (what: string): ReplicaError => new ReplicaError('CORRUPT', `${path}: ${what}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err: unknown) {
    throw bad(`not JSON (${(err as Error).message})`);
  }
  const format = typeof parsed === 'object' && parsed !== null ? (parsed as { format?: unknown }).format : undefined;
  if (format === 1) {
    throw bad(`format 1 was written by a VRA that hashed blocks with SHA-256; this one uses ${BLOCK_HASH} (format ${STATE_FORMAT}), so its digests and its journal's cannot be checked: remove the stream and protect the VPG again`);
  }
  if (format !== STATE_FORMAT) throw bad(`format ${JSON.stringify(format ?? null)} is not ${STATE_FORMAT}`);
  const json = parsed as StateJson;
  if (!Number.isSafeInteger(json.appliedSeq) || json.appliedSeq < 0) throw bad(`appliedSeq ${String(json.appliedSeq)} is not a seq`);
  if (!Array.isArray(json.volumes)) throw bad('volumes is not a list');
  const volumes = new Map<string, VolumeState>();
  for (const v of json.volumes) {
    if (volumeNameProblem(v.name) !== undefined) throw bad(`volume name ${JSON.stringify(v.name)} ${volumeNameProblem(v.name) ?? ''}`);
    // Written before volumes could be added to a running stream: there from the start.
    const since = v.since ?? 0;
    if (!Number.isSafeInteger(since) || since < 0) throw bad(`volume ${v.name}: since ${String(since)} is not a seq`);
    const seed = v.seed === undefined ? undefined : readSeed(v.seed);
    if (seed === false) throw bad(`volume ${v.name}: seed ${JSON.stringify(v.seed)} is not a seed's state`);
    const life = { since, attached: v.attached !== false, ...(seed !== undefined && { seed }) };
    if (v.kind === 'fs') {
      if (v.namespace === undefined) throw bad(`volume ${v.name} has no namespace`);
      try {
        volumes.set(v.name, { kind: 'fs', ns: Namespace.fromJSON(v.namespace), ...life });
      } catch (err: unknown) {
        throw bad(`volume ${v.name}: ${(err as Error).message}`);
      }
    } else if (v.kind === 'block') {
      const state: VolumeState = { kind: 'block', ...life };
      if (v.digest !== undefined) state.digest = { size: v.digest[0], digest: Buffer.from(v.digest[1], 'hex') };
      volumes.set(v.name, state);
    } else throw bad(`volume ${v.name} has kind ${JSON.stringify(v.kind)}, not fs or block`);
  }
  const cp = json.checkpoint;
  const checkpoint: AppliedCheckpoint | undefined =
    cp === null ? undefined : { seq: cp.seq, time: cp.time, tag: cp.tag, volumes: cp.volumes.map((v) => ({ volume: v.volume, digest: Buffer.from(v.digest, 'hex') })) };
  if (json.pending !== undefined && (!Number.isSafeInteger(json.pending) || json.pending <= json.appliedSeq)) throw bad(`pending ${String(json.pending)} is not a seq after appliedSeq ${json.appliedSeq}`);
  const retired = new Map<string, VolumeKind>();
  for (const [name, kind] of json.retired ?? []) {
    if (volumeNameProblem(name) !== undefined || (kind !== 'fs' && kind !== 'block') || volumes.has(name)) throw bad(`retired volume ${JSON.stringify(name)} (${kind}) is not a removed volume`);
    retired.set(name, kind);
  }
  return { appliedSeq: json.appliedSeq, pending: json.pending, checkpoint, volumes, retired };
}
