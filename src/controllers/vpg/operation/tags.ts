// Tagging a journal checkpoint on the recovery VRA, once: a restarted operator finds the tag and
// does not add it again.
import { tagsOf, type JournalCheckpoint } from './checkpoint.ts';
import type { RecoverySide } from './recovery-side.ts';
import { VraApiError, type VraClient } from '../vra-client.ts';

/** Tags checkpoint `id`; returns why it could not (the checkpoint left the journal), undefined when tagged. */
export async function tagCheckpoint(client: VraClient, side: RecoverySide, id: string, tag: string): Promise<string | undefined> {
  const path = `/v1/streams/${encodeURIComponent(side.streamId)}/checkpoints`;
  const listed = (await client.get<{ checkpoints: JournalCheckpoint[] }>(side.vra, path)).checkpoints;
  const found = listed.find((c) => String(c.seq) === id);
  if (found === undefined) return `checkpoint ${id} left the journal's history meanwhile: not tagged`;
  if (tagsOf(found).includes(tag)) return undefined;
  try {
    await client.post(side.vra, `${path}/${encodeURIComponent(id)}/tags`, { tag });
    return undefined;
  } catch (err: unknown) {
    if (err instanceof VraApiError && err.status === 409) return `checkpoint ${id} not tagged: ${err.message}`;
    throw err;
  }
}
