// Verify a materialised checkpoint against what the source read, not against the replica: each
// volume's digest is recomputed from the target and compared with the checkpoint's, and every
// file with the latest digest op for its id at or before the checkpoint. The replica keeps the
// latest digest per id as of appliedSeq, because those ops left with the journal it dropped.
import { contentDigest, volumeDigest, type DigestEntry } from '../hash.ts';
import type { OpName } from '../ops.ts';
import { ReplicaError } from './errors.ts';
import { hashFile, walkTree } from './hashing.ts';
import { opWhere, replay, type JournalReader } from './journal-reader.ts';
import { checkCoverage, recoverableCheckpoint } from './materialise.ts';
import { Namespace, NamespaceProblem } from './namespace.ts';
import { applyNamespaceOp, type Replica } from './replica.ts';
import { recordFate } from './replica-state.ts';

export interface VerifyOptions {
  replica: Replica;
  journal: JournalReader;
  checkpointSeq: number;
  /** Volume → where it was materialised (folder or image file). */
  targets: Map<string, string>;
}

export interface VerifyResult {
  ok: boolean;
  checkpointSeq: number;
  /** expected / actual: hex digests ("none" when the checkpoint carries no digest for the volume). */
  volumes: { volume: string; ok: boolean; expected: string; actual: string }[];
  files: { volume: string; path: string; problem: string }[];
}

const DATA_OPS: ReadonlySet<OpName> = new Set(['write', 'truncate']);

interface Expected {
  digests: Map<string, string>;
  namespaces: Map<string, Namespace>;
  blockDigests: Map<string, { size: number; digest: Uint8Array } | undefined>;
}

export async function verify(options: VerifyOptions): Promise<VerifyResult> {
  const { replica, journal, checkpointSeq, targets } = options;
  const expected = await replica.lock.run(() => expectedAt(replica, journal, checkpointSeq, targets));
  const result: VerifyResult = { ok: true, checkpointSeq, volumes: [], files: [] };
  for (const [volume, target] of targets) {
    const want = expected.digests.get(volume) ?? 'none';
    const ns = expected.namespaces.get(volume);
    const actual = ns === undefined ? await verifyImage(volume, target, expected.blockDigests.get(volume), result) : await verifyTree(volume, target, ns, result);
    const ok = actual === want;
    result.volumes.push({ volume, ok, expected: want, actual });
  }
  result.ok = result.volumes.every((v) => v.ok) && result.files.length === 0;
  return result;
}

/** The namespace and digests as of the checkpoint: the replica's, with the journal's ops after it. */
async function expectedAt(replica: Replica, journal: JournalReader, seq: number, targets: ReadonlyMap<string, string>): Promise<Expected> {
  await replica.finishInterruptedApply(journal);
  const cp = recoverableCheckpoint(replica, journal, seq);
  checkCoverage(replica, cp, targets.keys());
  const state = replica.snapshot();
  const namespaces = new Map<string, Namespace>();
  const blockDigests = new Map<string, { size: number; digest: Uint8Array } | undefined>();
  for (const volume of targets.keys()) {
    const v = state.volumes.get(volume);
    if (v === undefined) throw new ReplicaError('VOLUME', `targets: the replica has no volume ${volume}`);
    if (v.kind === 'fs') namespaces.set(volume, v.ns ?? new Namespace());
    else blockDigests.set(volume, v.digest);
  }
  for await (const item of replay(journal, state.appliedSeq + 1, seq, DATA_OPS)) {
    if (item.kind !== 'op') continue;
    const { volume, op } = item;
    const fate = recordFate(state, volume, item.seq);
    if (fate === undefined) throw new ReplicaError('BAD_OP', `${opWhere(item.seq, volume, op)}: the replica has no volume ${volume}`);
    if (fate === 'skip') continue;
    const ns = namespaces.get(volume);
    try {
      if (ns === undefined) {
        if (blockDigests.has(volume) && op.op === 'digest') blockDigests.set(volume, { size: op.size, digest: op.digest });
        continue;
      }
      applyNamespaceOp(ns, op);
    } catch (err: unknown) {
      if (err instanceof NamespaceProblem) throw new ReplicaError('BAD_OP', `${opWhere(item.seq, volume, op)}: ${err.message}`);
      throw err;
    }
  }
  const digests = new Map(cp.volumes.map((v) => [v.volume, Buffer.from(v.digest).toString('hex')]));
  return { digests, namespaces, blockDigests };
}

async function verifyImage(volume: string, target: string, last: { size: number; digest: Uint8Array } | undefined, result: VerifyResult): Promise<string> {
  let h;
  try {
    h = await hashFile(target);
  } catch (err: unknown) {
    result.files.push({ volume, path: '', problem: `image ${target} cannot be read: ${(err as Error).message}` });
    return 'unreadable';
  }
  if (last !== undefined && !h.digest.equals(last.digest)) {
    result.files.push({ volume, path: '', problem: `image digest ${h.digest.toString('hex')} (${h.size} bytes) is not the source's ${Buffer.from(last.digest).toString('hex')} (${last.size} bytes)` });
  }
  return h.digest.toString('hex');
}

async function verifyTree(volume: string, root: string, ns: Namespace, result: VerifyResult): Promise<string> {
  const problem = (path: string, what: string): void => {
    result.files.push({ volume, path, problem: what });
  };
  let tree;
  try {
    tree = await walkTree(root);
  } catch (err: unknown) {
    problem('', `target ${root} cannot be read: ${(err as Error).message}`);
    return 'unreadable';
  }
  const entries: DigestEntry[] = [];
  for (const [path, actual] of tree) {
    const want = ns.entries.get(path);
    if (want === undefined) problem(path, `is not in the checkpoint (found a ${actual.type === 'other' ? actual.what : actual.type})`);
    if (actual.type === 'other') {
      if (want !== undefined) problem(path, `is ${actual.what}, expected a ${want.type}`);
      continue;
    }
    if (actual.type === 'dir') entries.push({ path, type: 'dir', mode: actual.mode });
    else if (actual.type === 'symlink') entries.push({ path, type: 'symlink', target: actual.target });
    else {
      let digest: Buffer;
      try {
        const h = await hashFile(actual.path);
        digest = h.digest;
        if (want?.type === 'file') {
          const source = ns.file(want.id).digest;
          if (source !== undefined && !digest.equals(source.digest)) {
            problem(path, `content digest ${digest.toString('hex')} (${h.size} bytes) is not the source's ${Buffer.from(source.digest).toString('hex')} (${source.size} bytes)`);
          }
        }
      } catch (err: unknown) {
        problem(path, `cannot be read: ${(err as Error).message}`);
        digest = contentDigest(0, Buffer.alloc(0));
      }
      entries.push({ path, type: 'file', mode: actual.mode, digest });
    }
    if (want === undefined) continue;
    if (want.type !== actual.type) {
      problem(path, `is a ${actual.type}, expected a ${want.type}`);
      continue;
    }
    const wantMode = want.type === 'dir' ? want.mode : want.type === 'file' ? ns.file(want.id).mode : undefined;
    const gotMode = actual.type === 'symlink' ? undefined : actual.mode;
    if (wantMode !== undefined && gotMode !== wantMode) problem(path, `mode is 0o${(gotMode ?? 0).toString(8)}, expected 0o${wantMode.toString(8)}`);
    if (want.type === 'symlink' && actual.type === 'symlink' && want.target !== actual.target) {
      problem(path, `symlink target is ${JSON.stringify(actual.target)}, expected ${JSON.stringify(want.target)}`);
    }
  }
  for (const path of ns.entries.keys()) if (!tree.has(path)) problem(path, 'is missing');
  return volumeDigest(entries).toString('hex');
}
