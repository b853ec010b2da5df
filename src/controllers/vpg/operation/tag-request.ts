// Tagging a checkpoint on request: the tenant sets the annotation zcsp.io/tag-checkpoint (what
// `kubectl zcsp tag` does); the protected VRA takes a checkpoint with that tag now and answers
// once the recovery site holds it; the annotation is then removed and the tag shows in
// status.checkpoints.tagged. An annotation rather than a spec field: it is a request, not a state
// to converge on, and it leaves the VPG's generation alone.
import { ApiError, type CustomObject, type ReconcileContext } from '../../../runtime/index.ts';
import { VPGS } from '../../resources.ts';
import type { VraClient, VraEndpoint } from '../vra-client.ts';

export const ANNOTATION_TAG_REQUEST = 'zcsp.io/tag-checkpoint';
/** The checkpoint waits for the next capture pass and the journal's commit at the recovery site. */
const TAG_TIMEOUT_MS = 120_000;

/** Why a requested tag cannot be used, or undefined when it can. */
export function tagProblem(tag: string): string | undefined {
  if (tag.length === 0 || tag.length > 128) return `the tag must have 1 to 128 characters (has ${tag.length})`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(tag)) return 'the tag must not contain control characters';
  return undefined;
}

export async function handleTagRequest(ctx: ReconcileContext<CustomObject>, obj: CustomObject, client: VraClient, source: VraEndpoint, streamId: string): Promise<void> {
  const tag = obj.metadata?.annotations?.[ANNOTATION_TAG_REQUEST];
  if (tag === undefined) return;
  const problem = tagProblem(tag);
  if (problem !== undefined) {
    ctx.event(obj, { type: 'Warning', reason: 'TagRefused', action: 'Tag', note: `annotation ${ANNOTATION_TAG_REQUEST}: ${problem}; removed` });
  } else {
    const cp = await client.post<{ seq: number; tag: string }>(source, `/v1/streams/${encodeURIComponent(streamId)}/checkpoints`, { tag }, TAG_TIMEOUT_MS);
    ctx.event(obj, { type: 'Normal', reason: 'CheckpointTagged', action: 'Tag', note: `checkpoint ${cp.seq} tagged ${JSON.stringify(tag)}` });
  }
  // Only if it is still the same request (a new one set meanwhile is taken next time).
  try {
    await ctx.client.jsonPatch(VPGS, obj.metadata?.name ?? '', obj.metadata?.namespace, [
      { op: 'test', path: `/metadata/annotations/${pointer(ANNOTATION_TAG_REQUEST)}`, value: tag },
      { op: 'remove', path: `/metadata/annotations/${pointer(ANNOTATION_TAG_REQUEST)}` },
    ]);
  } catch (err: unknown) {
    // 422: the test failed, another tag was asked for meanwhile; it is handled on the next reconcile.
    if (!(err instanceof ApiError && err.statusCode === 422)) throw err;
  }
}

function pointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
