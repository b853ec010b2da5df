// The manifest of a volume as it will be once every durable record is applied (replica + the
// whole journal), with the source's file ids: what delta sync sends back to the source so it can
// rebuild its belief of the replica. Computed by materialising the head into a scratch folder
// inside the replica and hashing it; the scratch is removed after (and on the replica's open).
// When the journal holds nothing of the volume past the replica (a volume attached just now, as a
// seeded one is), the replica's own files are hashed where they are instead.
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Manifest, ManifestEntry } from '../manifest.ts';
import { ReplicaError } from './errors.ts';
import { hashFile, type FileHashes } from './hashing.ts';
import { replay, type JournalReader } from './journal-reader.ts';
import { materialiseLocked } from './materialise.ts';
import type { Namespace } from './namespace.ts';
import type { Replica } from './replica.ts';

/** Records after the replica's state looked through for the volume before giving up the shortcut. */
const SHORTCUT_RECORDS = 10_000;

export async function headManifest(replica: Replica, journal: JournalReader, volume: string): Promise<Manifest> {
  const kind = replica.volumes().find((v) => v.name === volume)?.kind;
  if (kind === undefined) throw new ReplicaError('VOLUME', `the replica has no volume ${volume}`);
  // The replica's files are the head when no record of the volume's life is past them (a volume
  // the source attaches now, e.g. one seeded from a local copy): hashed where they are, no copy.
  const inPlace = await replica.lock.run(async () => {
    await replica.finishInterruptedApply(journal);
    return (await nothingPast(replica, journal, volume)) ? manifestInPlace(replica, volume) : undefined;
  });
  if (inPlace !== undefined) return inPlace;
  const scratch = join(replica.scratchDir(), `head-${randomBytes(6).toString('hex')}`);
  const target = join(scratch, kind === 'fs' ? 'root' : 'image');
  try {
    await mkdir(scratch, { recursive: true });
    const done = await replica.lock.run(async () => {
      await replica.finishInterruptedApply(journal);
      return materialiseLocked(replica, journal, Math.max(journal.durableSeq, replica.appliedSeq), new Map([[volume, target]]), { durable: false });
    });
    const ns = done.namespaces.get(volume);
    if (ns === undefined) {
      const h = await hashFile(target);
      return { kind: 'block', size: h.size, hashes: h.hashes };
    }
    return await treeManifest(ns, (path) => join(target, path));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Whether the journal holds no record of the volume's current life that the replica has not applied. Lock held. */
async function nothingPast(replica: Replica, journal: JournalReader, volume: string): Promise<boolean> {
  const v = replica.volume(volume);
  if (v === undefined) return false;
  const from = Math.max(replica.appliedSeq, v.since) + 1;
  if (from > journal.durableSeq) return true;
  if (journal.durableSeq - from >= SHORTCUT_RECORDS) return false;
  for await (const item of replay(journal, from, journal.durableSeq)) if (item.kind === 'op' && item.volume === volume) return false;
  return true;
}

/** The manifest of the replica's own files of a volume (objects by id, or the image). Lock held. */
async function manifestInPlace(replica: Replica, volume: string): Promise<Manifest> {
  const v = replica.snapshot().volumes.get(volume);
  if (v === undefined) throw new ReplicaError('VOLUME', `the replica has no volume ${volume}`);
  if (v.ns === undefined) {
    const h = await hashFile(replica.imagePath(volume));
    return { kind: 'block', size: h.size, hashes: h.hashes };
  }
  const ns = v.ns;
  return treeManifest(ns, (path) => {
    const e = ns.entries.get(path);
    if (e?.type !== 'file') throw new ReplicaError('CORRUPT', `volume ${volume}: ${JSON.stringify(path)} is not a file`);
    return replica.objectPath(volume, e.id);
  });
}

async function treeManifest(ns: Namespace, fileAt: (path: string) => string): Promise<Manifest> {
  const entries = new Map<string, ManifestEntry>();
  const byId = new Map<number, FileHashes>();
  for (const [path, e] of ns.sorted()) {
    if (e.type === 'dir') entries.set(path, { type: 'dir', mode: e.mode });
    else if (e.type === 'symlink') entries.set(path, { type: 'symlink', target: e.target });
    else {
      // Hard links (two paths of one id) are one file: hashed once.
      let h = byId.get(e.id);
      if (h === undefined) {
        h = await hashFile(fileAt(path));
        byId.set(e.id, h);
      }
      entries.set(path, { type: 'file', id: e.id, mode: ns.file(e.id).mode, size: h.size, hashes: h.hashes });
    }
  }
  return { kind: 'fs', entries };
}
