// The manifest of a volume as it will be once every durable record is applied (replica + the
// whole journal), with the source's file ids: what delta sync sends back to the source so it can
// rebuild its belief of the replica. Computed by materialising the head into a scratch folder
// inside the replica and hashing it; the scratch is removed after (and on the replica's open).
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Manifest, ManifestEntry } from '../manifest.ts';
import { ReplicaError } from './errors.ts';
import { hashFile } from './hashing.ts';
import type { JournalReader } from './journal-reader.ts';
import { materialiseLocked } from './materialise.ts';
import type { Replica } from './replica.ts';

export async function headManifest(replica: Replica, journal: JournalReader, volume: string): Promise<Manifest> {
  const kind = replica.volumes().find((v) => v.name === volume)?.kind;
  if (kind === undefined) throw new ReplicaError('VOLUME', `the replica has no volume ${volume}`);
  const scratch = join(replica.scratchDir(), `head-${randomBytes(6).toString('hex')}`);
  const target = join(scratch, kind === 'fs' ? 'root' : 'image');
  try {
    await mkdir(scratch, { recursive: true });
    const done = await replica.lock.run(async () => {
      await replica.finishInterruptedApply(journal);
      return materialiseLocked(replica, journal, Math.max(journal.durableSeq, replica.appliedSeq), new Map([[volume, target]]));
    });
    const ns = done.namespaces.get(volume);
    if (ns === undefined) {
      const h = await hashFile(target);
      return { kind: 'block', size: h.size, hashes: h.hashes };
    }
    const entries = new Map<string, ManifestEntry>();
    for (const [path, e] of ns.sorted()) {
      if (e.type === 'dir') entries.set(path, { type: 'dir', mode: e.mode });
      else if (e.type === 'symlink') entries.set(path, { type: 'symlink', target: e.target });
      else {
        const h = await hashFile(join(target, path));
        entries.set(path, { type: 'file', id: e.id, mode: ns.file(e.id).mode, size: h.size, hashes: h.hashes });
      }
    }
    return { kind: 'fs', entries };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
