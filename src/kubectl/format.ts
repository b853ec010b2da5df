// Text building blocks: aligned tables, durations and times as kubectl prints them.
import type { CheckpointChoice, CheckpointRef, CommitPolicy } from './vpg.ts';

/** Columns padded to the widest cell, two spaces apart, as `kubectl get` prints them. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], indent = ''): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    indent + cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [headers, ...rows].map(line).join('\n');
}

/** 45s, 3m12s, 2h5m, 3d4h: the two largest units, as kubectl shows ages. */
export function duration(totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds));
  if (s < 60) return `${s}s`;
  const units: [number, string][] = [[86_400, 'd'], [3600, 'h'], [60, 'm'], [1, 's']];
  const first = units.findIndex(([size]) => s >= size);
  const [bigSize, bigName] = units[first] ?? [1, 's'];
  const [smallSize, smallName] = units[first + 1] ?? [1, 's'];
  const big = Math.floor(s / bigSize);
  const small = Math.floor((s - big * bigSize) / smallSize);
  return small === 0 ? `${big}${bigName}` : `${big}${bigName}${small}${smallName}`;
}

/** "3m ago" or "in 5m", relative to now (ms). */
export function relative(time: string, now: number): string {
  const t = Date.parse(time);
  if (Number.isNaN(t)) return '?';
  const seconds = (now - t) / 1000;
  return seconds >= 0 ? `${duration(seconds)} ago` : `in ${duration(-seconds)}`;
}

/** The time as the API server wrote it, and how long ago. */
export const when = (time: string, now: number): string => `${time} (${relative(time, now)})`;

export const orDash = (v: string | number | undefined): string => (v === undefined || v === '' ? '-' : String(v));

/** cp-123 at 2025-01-01T00:00:00Z (5s ago), tagged "before-upgrade" */
export function checkpointText(ref: CheckpointRef, now: number): string {
  return `${ref.id} at ${when(ref.time, now)}${ref.tag === undefined ? '' : `, tagged "${ref.tag}"`}`;
}

/** How --checkpoint reads back: what spec.operation.checkpoint asks for. */
export function choiceText(choice: CheckpointChoice): string {
  switch (choice.type) {
    case 'Latest': return 'the latest checkpoint';
    case 'LatestTagged': return 'the latest tagged checkpoint';
    case 'Named': return `checkpoint "${choice.name ?? ''}"`;
    case 'Time': return `the latest checkpoint at or before ${choice.time ?? ''}`;
  }
}

export function policyText(policy: CommitPolicy | undefined): string {
  if (policy === undefined) return 'auto-commit after 10 minutes (the default)';
  switch (policy.type) {
    case 'Manual': return 'manual (waits for commit or rollback)';
    case 'AutoCommit': return `auto-commit after ${policy.timeoutMinutes ?? 0} minutes`;
    case 'AutoRollback': return `auto-rollback after ${policy.timeoutMinutes ?? 0} minutes`;
  }
}

/** The elapsed-time prefix of a progress line: `[ 12s]`. */
export const elapsed = (startedAt: number, now: number): string => `[${duration((now - startedAt) / 1000).padStart(5)}]`;
