// The replica's committed state: appliedSeq, the checkpoint it is at, its volumes and each
// filesystem volume's namespace, in one JSON file replaced atomically (temp, fsync, rename, fsync
// of the folder) so a crash leaves either the old state or the new one.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDir, writeFileDurably } from '../durable.ts';
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

export interface VolumeState {
  kind: VolumeKind;
  /** Filesystem volumes only. */
  ns?: Namespace;
  /** Block volumes only: the last digest op on the image. */
  digest?: { size: number; digest: Uint8Array };
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
}

interface StateJson {
  format: 1;
  appliedSeq: number;
  pending?: number;
  checkpoint: { seq: number; time: number; tag: string; volumes: { volume: string; digest: string }[] } | null;
  volumes: { name: string; kind: string; namespace?: NamespaceJson; digest?: [number, string] }[];
}

export const STATE_FILE = 'replica.json';

export function cloneState(state: ReplicaState): ReplicaState {
  const volumes = new Map<string, VolumeState>();
  for (const [name, v] of state.volumes) {
    const copy: VolumeState = { kind: v.kind };
    if (v.ns !== undefined) copy.ns = v.ns.clone();
    if (v.digest !== undefined) copy.digest = v.digest;
    volumes.set(name, copy);
  }
  return { appliedSeq: state.appliedSeq, pending: state.pending, checkpoint: state.checkpoint, volumes };
}

function toJson(state: ReplicaState): StateJson {
  const cp = state.checkpoint;
  return {
    format: 1,
    appliedSeq: state.appliedSeq,
    ...(state.pending !== undefined && { pending: state.pending }),
    checkpoint: cp === undefined ? null : { seq: cp.seq, time: cp.time, tag: cp.tag, volumes: cp.volumes.map((v) => ({ volume: v.volume, digest: Buffer.from(v.digest).toString('hex') })) },
    volumes: [...state.volumes].map(([name, v]) => {
      const out: StateJson['volumes'][number] = { name, kind: v.kind };
      if (v.ns !== undefined) out.namespace = v.ns.toJSON();
      if (v.digest !== undefined) out.digest = [v.digest.size, Buffer.from(v.digest.digest).toString('hex')];
      return out;
    }),
  };
}

export async function writeState(dir: string, state: ReplicaState): Promise<void> {
  await writeFileDurably(join(dir, STATE_FILE), JSON.stringify(toJson(state)));
}

export { syncDir };

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
  let json: StateJson;
  try {
    json = JSON.parse(text) as StateJson;
  } catch (err: unknown) {
    throw bad(`not JSON (${(err as Error).message})`);
  }
  if (typeof json !== 'object' || (json as Partial<StateJson>).format !== 1) throw bad('format is not 1');
  if (!Number.isSafeInteger(json.appliedSeq) || json.appliedSeq < 0) throw bad(`appliedSeq ${String(json.appliedSeq)} is not a seq`);
  if (!Array.isArray(json.volumes)) throw bad('volumes is not a list');
  const volumes = new Map<string, VolumeState>();
  for (const v of json.volumes) {
    if (volumeNameProblem(v.name) !== undefined) throw bad(`volume name ${JSON.stringify(v.name)} ${volumeNameProblem(v.name) ?? ''}`);
    if (v.kind === 'fs') {
      if (v.namespace === undefined) throw bad(`volume ${v.name} has no namespace`);
      try {
        volumes.set(v.name, { kind: 'fs', ns: Namespace.fromJSON(v.namespace) });
      } catch (err: unknown) {
        throw bad(`volume ${v.name}: ${(err as Error).message}`);
      }
    } else if (v.kind === 'block') {
      const state: VolumeState = { kind: 'block' };
      if (v.digest !== undefined) state.digest = { size: v.digest[0], digest: Buffer.from(v.digest[1], 'hex') };
      volumes.set(v.name, state);
    } else throw bad(`volume ${v.name} has kind ${JSON.stringify(v.kind)}, not fs or block`);
  }
  const cp = json.checkpoint;
  const checkpoint: AppliedCheckpoint | undefined =
    cp === null ? undefined : { seq: cp.seq, time: cp.time, tag: cp.tag, volumes: cp.volumes.map((v) => ({ volume: v.volume, digest: Buffer.from(v.digest, 'hex') })) };
  if (json.pending !== undefined && (!Number.isSafeInteger(json.pending) || json.pending <= json.appliedSeq)) throw bad(`pending ${String(json.pending)} is not a seq after appliedSeq ${json.appliedSeq}`);
  return { appliedSeq: json.appliedSeq, pending: json.pending, checkpoint, volumes };
}
