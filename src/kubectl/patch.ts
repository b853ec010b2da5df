// Conditional changes to a VPG's spec. Each change is a JSON patch that starts with a `test` of
// metadata.generation: the spec is exactly as the command read it and checked it, or the API
// server refuses the whole patch. Two people acting on the same VPG cannot trample each other;
// the loser re-reads and is told what the other did. The generation and not the
// resourceVersion: the controller's status writes change the latter every few seconds, never
// the former. And not a test of the values themselves: the API server compares JSON text, and
// encodes some characters (&, <, >) differently than JSON.stringify.
import type { JsonPatchOperation, KubeClient } from '../runtime/client.ts';
import { VPGS } from '../controllers/resources.ts';
import { CommandError, isPreconditionFailed } from './errors.ts';
import { FIELD_MANAGER, type Vpg } from './vpg.ts';

const ATTEMPTS = 5;

export interface Change {
  /** The VPG as read and checked. */
  before: Vpg;
  /** The VPG as the patch left it: its generation and resourceVersion are where waiting starts. */
  after: Vpg;
}

function precondition(vpg: Vpg): JsonPatchOperation {
  const generation = vpg.metadata?.generation;
  return generation === undefined
    ? { op: 'test', path: '/metadata/resourceVersion', value: vpg.metadata?.resourceVersion }
    : { op: 'test', path: '/metadata/generation', value: generation };
}

/**
 * Reads the VPG, asks `plan` for the operations (plan throws a CommandError to refuse, seeing the
 * current state; undefined: nothing to change), and patches on the condition that the spec did
 * not change in between.
 */
export async function changeSpec(
  client: KubeClient, namespace: string, name: string, plan: (vpg: Vpg) => JsonPatchOperation[] | undefined,
): Promise<Change> {
  for (let attempt = 1; ; attempt++) {
    const before = await client.get(VPGS, name, namespace) as Vpg;
    const operations = plan(before);
    if (operations === undefined) return { before, after: before };
    try {
      const after = await client.jsonPatch(VPGS, name, namespace, [precondition(before), ...operations], { fieldManager: FIELD_MANAGER }) as Vpg;
      return { before, after };
    } catch (err: unknown) {
      if (!isPreconditionFailed(err)) throw err;
      if (attempt >= ATTEMPTS) throw new CommandError(`VPG ${name} changed under every one of ${ATTEMPTS} attempts; try again`);
    }
  }
}
