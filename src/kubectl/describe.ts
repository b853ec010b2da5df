// The VPG for people: the status table, the detail view, the checkpoints, history entries.
// Pure functions of the object and the time, so tests pin the text.
import {
  checkpointText, choiceText, duration, orDash, policyText, relative, table, when,
} from './format.ts';
import type { HistoryEntry, LastTest, OperationSpec, OperationStatus, Vpg } from './vpg.ts';

/** The OPERATION column: the stage reported, or the operation declared but not yet picked up. */
function operationCell(vpg: Vpg): string {
  const reported = vpg.status?.operation;
  if (reported !== undefined) return `${reported.type}/${reported.stage}`;
  const declared = vpg.spec?.operation;
  return declared === undefined ? '-' : `${declared.type}/declared`;
}

export function statusTable(vpgs: readonly Vpg[], options: { allNamespaces: boolean }): string {
  const headers = ['NAME', 'PHASE', 'SUBSTATUS', 'RPO', 'HISTORY', 'JOURNAL', 'OPERATION'];
  const rows = vpgs.map((v) => {
    const s = v.status;
    const journal = s?.journal === undefined ? '-' : `${s.journal.used}/${s.journal.limit}`;
    return [
      v.metadata?.name ?? '', orDash(s?.phase), orDash(s?.substatus),
      s?.rpoSeconds === undefined ? '-' : `${s.rpoSeconds}s`, orDash(s?.journal?.actualHistory), journal, operationCell(v),
    ];
  });
  return options.allNamespaces
    ? table(['NAMESPACE', ...headers], rows.map((r, i) => [vpgs[i]?.metadata?.namespace ?? '', ...r]))
    : table(headers, rows);
}

/** What spec.operation asks for, in one line. */
export function declaredText(op: OperationSpec): string {
  const parts = [op.type, op.type === 'Move' ? 'of the checkpoint it takes after stopping the workloads' : `of ${choiceText(op.checkpoint)}`];
  if (op.type !== 'FailoverTest') parts.push(`commit policy ${policyText(op.commitPolicy)}`);
  if (op.reverseProtection === true) parts.push('reverse protection');
  if (op.decision !== undefined) parts.push(`decision ${op.decision}`);
  return parts.join(', ');
}

export function historyEntryText(e: HistoryEntry, now: number): string {
  const took = duration((Date.parse(e.endTime) - Date.parse(e.startTime)) / 1000);
  const rto = e.rtoSeconds === undefined ? '' : ` (RTO ${duration(e.rtoSeconds)})`;
  const lines = [`${e.type} ${e.result}: ended ${when(e.endTime, now)} after ${took}${rto}`];
  if (e.checkpoint !== undefined) lines.push(`  checkpoint ${checkpointText(e.checkpoint, now)}`);
  if (e.message !== undefined) lines.push(`  ${e.message}`);
  return lines.join('\n');
}

export function lastTestText(t: LastTest, now: number): string {
  const end = t.endTime === undefined ? 'still running' : `ended ${when(t.endTime, now)}`;
  const rto = t.rtoSeconds === undefined ? '' : `, RTO ${duration(t.rtoSeconds)}`;
  return `${t.result}, started ${when(t.startTime, now)}, ${end}${rto}; checkpoint ${checkpointText(t.checkpoint, now)}`;
}

/** status.operation: stage, progress, checkpoint, deadline, and the steps with their timings. */
function operationLines(op: OperationStatus, now: number): string[] {
  const percent = op.progressPercent === undefined ? '' : ` ${op.progressPercent}%`;
  const out = [`Operation:    ${op.type}, stage ${op.stage}${percent}, started ${when(op.startTime, now)}`];
  if (op.checkpoint !== undefined) out.push(`  checkpoint: ${checkpointText(op.checkpoint, now)}`);
  if (op.commitDeadline !== undefined) out.push(`  commit policy acts at ${when(op.commitDeadline, now)}`);
  if (op.message !== undefined) out.push(`  message:    ${op.message}`);
  if (op.error !== undefined) out.push(`  error:      ${op.error} (retrying)`);
  if (op.rtoSeconds !== undefined) out.push(`  RTO:        ${duration(op.rtoSeconds)}`);
  const steps = op.steps ?? [];
  if (steps.length > 0) {
    out.push('  steps:', table(['STEP', 'STARTED', 'TOOK'], steps.map((st) => [
      st.name, relative(st.startTime, now),
      st.endTime === undefined ? `running for ${duration((now - Date.parse(st.startTime)) / 1000)}` : duration((Date.parse(st.endTime) - Date.parse(st.startTime)) / 1000),
    ]), '    '));
  }
  return out;
}

function section(title: string, body: string): string[] {
  return [`${title}:`, body];
}

export function statusDetail(vpg: Vpg, now: number): string {
  const s = vpg.status;
  const spec = vpg.spec;
  const out: string[] = [
    `Name:         ${vpg.metadata?.name ?? ''}`,
    `Namespace:    ${vpg.metadata?.namespace ?? ''}`,
    `Phase:        ${orDash(s?.phase)}${s?.substatus === undefined ? '' : ` (${s.substatus})`}`,
    `RPO:          ${s?.rpoSeconds === undefined ? '-' : `${s.rpoSeconds}s`}`,
  ];
  if (spec !== undefined) {
    out.push(`Sites:        ${spec.protectedSite} -> ${spec.recoverySite} (recovers into ${spec.recovery.namespace}, tests into ${spec.recovery.testNamespace})`);
  }
  const p = s?.placement;
  if (p !== undefined) {
    out.push(`Placement:    protected node ${orDash(p.protectedNode)}, recovery node ${orDash(p.recoveryNode)}, stream ${orDash(p.streamId)}`);
  }
  const j = s?.journal;
  if (j !== undefined) {
    out.push(`Journal:      ${j.used} used (limit ${j.limit}); history ${j.actualHistory} of ${duration(j.configuredHistorySeconds)}${j.since === undefined ? '' : `, since ${j.since}`}`);
  }
  const c = s?.checkpoints;
  if (c !== undefined) {
    out.push(`Checkpoints:  ${c.count}, ${(c.tagged ?? []).length} tagged`);
    if (c.latest !== undefined) out.push(`  latest:     ${checkpointText(c.latest, now)}`);
    if (c.oldest !== undefined) out.push(`  oldest:     ${checkpointText(c.oldest, now)}`);
  }
  const sync = s?.sync;
  if (sync !== undefined) {
    const rest = [sync.remaining === undefined ? '' : `, ${sync.remaining} left`, sync.eta === undefined ? '' : `, ETA ${when(sync.eta, now)}`].join('');
    out.push(`Sync:         ${sync.type} ${sync.progressPercent}% since ${when(sync.startTime, now)}${rest}`);
  }
  if (s?.volumes !== undefined && s.volumes.length > 0) {
    out.push(...section('Volumes', table(['CLAIM', 'SIZE', 'STATE', 'SYNC', 'MESSAGE'],
      s.volumes.map((v) => [v.claimName, orDash(v.size), v.state, v.syncPercent === undefined ? '-' : `${v.syncPercent}%`, v.message ?? '']), '  ')));
  }
  if (s?.conditions !== undefined && s.conditions.length > 0) {
    out.push(...section('Conditions', table(['TYPE', 'STATUS', 'REASON', 'AGE', 'MESSAGE'],
      s.conditions.map((x) => [x.type, x.status, x.reason, relative(x.lastTransitionTime, now).replace(/ ago$/, ''), x.message]), '  ')));
  }
  const op = s?.operation;
  if (op !== undefined) out.push(...operationLines(op, now));
  if (spec?.operation !== undefined) out.push(`${op === undefined ? 'Operation:    ' : '  declared:   '}${declaredText(spec.operation)}${op === undefined ? ' (declared, not yet reported)' : ''}`);
  if (s?.lastTest !== undefined) out.push(`Last test:    ${lastTestText(s.lastTest, now)}`);
  const history = s?.history ?? [];
  if (history.length > 0) {
    out.push(...section('History', table(['TYPE', 'RESULT', 'STARTED', 'TOOK', 'RTO', 'CHECKPOINT', 'MESSAGE'],
      history.map((e) => [
        e.type, e.result, relative(e.startTime, now), duration((Date.parse(e.endTime) - Date.parse(e.startTime)) / 1000),
        e.rtoSeconds === undefined ? '-' : duration(e.rtoSeconds), e.checkpoint?.id ?? '-', e.message ?? '',
      ]), '  ')));
  }
  return out.join('\n');
}

export function checkpointsText(vpg: Vpg, now: number): string {
  const c = vpg.status?.checkpoints;
  if (c === undefined) return `VPG ${vpg.metadata?.name ?? ''} has no checkpoints yet`;
  const out = [
    `Latest:  ${c.latest === undefined ? '-' : checkpointText(c.latest, now)}`,
    `Oldest:  ${c.oldest === undefined ? '-' : checkpointText(c.oldest, now)}`,
    `Count:   ${c.count}`,
  ];
  const tagged = c.tagged ?? [];
  out.push(tagged.length === 0 ? 'Tagged:  none' : `Tagged:\n${table(['ID', 'TIME', 'AGE', 'TAG'], tagged.map((t) => [t.id, t.time, relative(t.time, now), t.tag ?? '']), '  ')}`);
  return out.join('\n');
}
