// Declaring an operation in spec.operation and following it to where the tenant acts next
// (a test Running, a failover or move BeforeCommit); clearing spec.operation once the history
// shows the operation ended, as the schema asks.
import type { JsonPatchOperation } from '../../runtime/client.ts';
import type { Context } from '../command.ts';
import { declaredText, historyEntryText } from '../describe.ts';
import { CommandError } from '../errors.ts';
import { checkpointText, duration, elapsed, when } from '../format.ts';
import { followStart } from '../follow.ts';
import { changeSpec } from '../patch.ts';
import {
  OPERATION_NAMES, historyOf, statusIsCurrent,
  type CheckpointChoice, type OperationSpec, type OperationStage, type OperationStatus, type Vpg,
} from '../vpg.ts';
import { print, progress, target, waitOn } from './shared.ts';

/** What the plugin writes to spec.operation (the API server defaults checkpoint to Latest). */
export type OperationRequest = Omit<OperationSpec, 'checkpoint'> & { checkpoint?: CheckpointChoice };

const capitalized = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** Why a new operation cannot be declared, and what to do about the one that is. */
export function alreadyDeclared(ctx: Context, name: string, vpg: Vpg, declared: OperationSpec): string {
  const reported = vpg.status?.operation;
  const generation = vpg.metadata?.generation ?? 0;
  const state = reported?.type === declared.type
    ? `stage ${reported.stage}${reported.message === undefined ? '' : `: ${reported.message}`}`
    : statusIsCurrent(vpg, generation) ? 'it has ended' : 'not started yet';
  let next: string;
  if (declared.type === 'FailoverTest') next = `stop it with: kubectl zcsp stop-test ${target(ctx, name)}`;
  else if (reported?.stage === 'BeforeCommit') next = `decide it with: kubectl zcsp commit (or rollback) ${target(ctx, name)}`;
  else if (state === 'it has ended') next = `remove it with: kubectl patch vpg ${target(ctx, name)} --type json -p '[{"op":"remove","path":"/spec/operation"}]'`;
  else next = `follow it with: kubectl zcsp status ${target(ctx, name)}`;
  return `VPG ${name} already has an operation declared: ${declaredText(declared)} (${state}); ${next}`;
}

/**
 * Removes spec.operation if it is still of this type (the operation ended; the history has it).
 * Nothing to do if someone (or the controller) removed it already.
 */
export async function clearOperation(ctx: Context, name: string, type: OperationSpec['type']): Promise<void> {
  const change = await changeSpec(ctx.client, ctx.namespace, name, (vpg) => {
    if (vpg.spec?.operation?.type !== type) return undefined;
    return [{ op: 'test', path: '/spec/operation/type', value: type }, { op: 'remove', path: '/spec/operation' }];
  });
  if (change.after !== change.before) progress(ctx, `removed the ended ${OPERATION_NAMES[type]} from spec.operation`);
}

function reachedText(ctx: Context, name: string, vpg: Vpg, op: OperationStatus): string {
  const now = ctx.now();
  const where = op.type === 'FailoverTest' ? vpg.spec?.recovery.testNamespace : vpg.spec?.recovery.namespace;
  const lines = [op.type === 'FailoverTest'
    ? `Failover test of VPG ${ctx.namespace}/${name} is running${where === undefined ? '' : ` in namespace ${where}`}.`
    : `${capitalized(OPERATION_NAMES[op.type])} of VPG ${ctx.namespace}/${name} is before commit${where === undefined ? '' : `: recovered into namespace ${where}`}.`];
  if (op.checkpoint !== undefined) lines.push(`Checkpoint: ${checkpointText(op.checkpoint, now)}`);
  if (op.message !== undefined) lines.push(op.message);
  if (op.rtoSeconds !== undefined) lines.push(`Recovery time (RTO): ${duration(op.rtoSeconds)}`);
  if (op.type === 'FailoverTest') {
    lines.push(`Stop it with: kubectl zcsp stop-test ${target(ctx, name)}`);
  } else {
    if (op.commitDeadline !== undefined) lines.push(`Commit deadline: ${when(op.commitDeadline, now)}, when the commit policy acts.`);
    lines.push(`Decide with: kubectl zcsp commit ${target(ctx, name)}   or   kubectl zcsp rollback ${target(ctx, name)}`);
  }
  return lines.join('\n');
}

/** Declares `op` (refusing if an operation is declared) and waits until it reaches `stage`. */
export async function startOperation(ctx: Context, name: string, op: OperationRequest, stage: OperationStage): Promise<number> {
  const label = OPERATION_NAMES[op.type];
  const startedAt = ctx.now();
  const change = await changeSpec(ctx.client, ctx.namespace, name, (vpg): JsonPatchOperation[] => {
    const declared = vpg.spec?.operation;
    if (declared !== undefined) throw new CommandError(alreadyDeclared(ctx, name, vpg, declared));
    // The previous operation is still winding down: its end would be mistaken for this one's.
    const ending = vpg.status?.operation;
    if (ending !== undefined) {
      throw new CommandError(`VPG ${name}'s previous ${OPERATION_NAMES[ending.type]} is still ending (stage ${ending.stage}); try again once kubectl zcsp status ${target(ctx, name)} shows no operation`);
    }
    return [{ op: 'add', path: '/spec/operation', value: op }];
  });
  const declared = change.after.spec?.operation;
  progress(ctx, `${elapsed(startedAt, ctx.now())} declared on VPG ${ctx.namespace}/${name}: ${declared === undefined ? op.type : declaredText(declared)}`);
  if (!ctx.wait) {
    print(ctx, { declared: declared ?? op }, `${capitalized(label)} of VPG ${ctx.namespace}/${name} declared; follow it with: kubectl zcsp status ${target(ctx, name)}`);
    return 0;
  }
  const outcome = await waitOn(ctx, name, change.after, followStart({
    type: op.type, target: stage, generation: change.after.metadata?.generation ?? 0, historyBefore: historyOf(change.before), startedAt,
  }), `the ${label} to reach ${stage}`);
  if (outcome.kind === 'reached') {
    print(ctx, outcome.operation, reachedText(ctx, name, outcome.vpg, outcome.operation));
    return 0;
  }
  if (outcome.kind === 'failed') {
    const undo = op.type === 'FailoverTest' ? `kubectl zcsp stop-test ${target(ctx, name)}` : `kubectl zcsp rollback ${target(ctx, name)}`;
    print(ctx, outcome.operation, `${capitalized(label)} of VPG ${ctx.namespace}/${name} ${outcome.operation.error ?? 'failed'}\nClean up with: ${undo}`);
    return 1;
  }
  await clearOperation(ctx, name, op.type);
  const entry = outcome.entry;
  const ok = op.type !== 'FailoverTest' && entry.result === 'Succeeded';
  print(ctx, entry, `${capitalized(label)} of VPG ${ctx.namespace}/${name} ended${ok ? '' : ` before ${stage}`}:\n${historyEntryText(entry, ctx.now())}`);
  return ok ? 0 : 1;
}
