// Conditional spec changes against a scripted API: the generation test goes first, and a failed
// test means reading and checking again, so the second writer sees what the first did.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonPatchOperation, KubeClient } from '../runtime/client.ts';
import { ApiError } from '../runtime/errors.ts';
import { CommandError } from './errors.ts';
import { changeSpec } from './patch.ts';
import type { Vpg } from './vpg.ts';

const spec = {
  protectedSite: 'prod', recoverySite: 'dr', volumes: { claimNames: ['d'] },
  recovery: { namespace: 'acme-dr', testNamespace: 'acme-test' }, deletionPolicy: 'Delete' as const, mode: 'Protect' as const,
};
const at = (generation: number, operation?: NonNullable<Vpg['spec']>['operation']): Vpg =>
  ({ metadata: { name: 'web', namespace: 'acme', generation, resourceVersion: String(generation * 10) }, spec: { ...spec, ...(operation !== undefined && { operation }) } });
const testFailed = (): ApiError => new ApiError({
  statusCode: 422, method: 'PATCH', path: '/', status: { reason: 'Invalid', message: 'the server rejected our request due to an error in our request', details: {} },
});

/** Reads return the versions in turn; patches fail with the errors in turn, then succeed. */
function scripted(reads: Vpg[], failures: ApiError[]): { client: KubeClient; patches: JsonPatchOperation[][] } {
  const patches: JsonPatchOperation[][] = [];
  const fake = {
    get: () => Promise.resolve(reads.shift()),
    jsonPatch: (_r: unknown, _name: string, _ns: string, ops: JsonPatchOperation[]) => {
      patches.push(ops);
      const failure = failures.shift();
      return failure === undefined ? Promise.resolve({ ...at(99), spec: { ...spec } }) : Promise.reject(failure);
    },
  };
  return { client: fake as unknown as KubeClient, patches };
}

const declare: JsonPatchOperation = { op: 'add', path: '/spec/operation', value: { type: 'FailoverTest' } };
const planStart = (vpg: Vpg): JsonPatchOperation[] => {
  if (vpg.spec?.operation !== undefined) throw new CommandError(`already declared: ${vpg.spec.operation.type}`);
  return [declare];
};

describe('changeSpec', () => {
  it('sends the change behind a test of the generation it checked', async () => {
    const { client, patches } = scripted([at(4)], []);
    const change = await changeSpec(client, 'acme', 'web', planStart);
    assert.deepEqual(patches, [[{ op: 'test', path: '/metadata/generation', value: 4 }, declare]]);
    assert.equal(change.before.metadata?.generation, 4);
    assert.equal(change.after.metadata?.generation, 99);
  });

  it('reads and checks again when the spec changed in between: the second writer is refused with what the first did', async () => {
    const { client, patches } = scripted([at(4), at(5, { type: 'Failover', checkpoint: { type: 'Latest' } })], [testFailed()]);
    await assert.rejects(changeSpec(client, 'acme', 'web', planStart), /already declared: Failover/);
    assert.equal(patches.length, 1);
  });

  it('retries a few times, then gives up', async () => {
    const { client, patches } = scripted([at(4), at(5), at(6), at(7), at(8)], [testFailed(), testFailed(), testFailed(), testFailed(), testFailed()]);
    await assert.rejects(changeSpec(client, 'acme', 'web', planStart), /changed under every one of 5 attempts/);
    assert.deepEqual(patches.map((p) => p[0]?.value), [4, 5, 6, 7, 8]);
  });

  it('sends nothing when the plan has nothing to change, and passes other refusals on', async () => {
    const quiet = scripted([at(4)], []);
    const change = await changeSpec(quiet.client, 'acme', 'web', () => undefined);
    assert.equal(change.after, change.before);
    assert.equal(quiet.patches.length, 0);
    const refused = new ApiError({ statusCode: 422, method: 'PATCH', path: '/', status: { reason: 'Invalid', details: { name: 'web', causes: [{ field: 'spec.operation.type' }] } } });
    await assert.rejects(changeSpec(scripted([at(4)], [refused]).client, 'acme', 'web', planStart), (e: unknown) => e === refused);
  });
});
