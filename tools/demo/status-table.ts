// The demo's live view: a compact table of what the cluster runs. Pure, so it is tested as text.
import type { V1Node, V1Pod } from '@kubernetes/client-node';

/** Left-aligned columns separated by two spaces, like kubectl's tables. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

export function age(from: Date | undefined, now: Date): string {
  if (from === undefined) return '-';
  const s = Math.max(0, Math.floor((now.getTime() - from.getTime()) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  return `${Math.floor(s / 3600)}h`;
}

function nodeRow(n: V1Node, now: Date): string[] {
  const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
  return [
    n.metadata?.name ?? '',
    n.metadata?.labels?.['zcsp.io/site'] ?? '-',
    ready?.status === 'True' ? 'Ready' : 'NotReady',
    n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '-',
    age(n.metadata?.creationTimestamp, now),
  ];
}

function podRow(p: V1Pod, now: Date): string[] {
  const statuses = p.status?.containerStatuses ?? [];
  const ready = statuses.filter((c) => c.ready).length;
  const restarts = statuses.reduce((sum, c) => sum + c.restartCount, 0);
  const waiting = statuses.find((c) => c.state?.waiting?.reason !== undefined)?.state?.waiting?.reason;
  const phase = p.metadata?.deletionTimestamp !== undefined ? 'Terminating' : (waiting ?? p.status?.phase ?? 'Pending');
  return [
    `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`,
    `${ready}/${p.spec?.containers.length ?? 0}`,
    phase,
    String(restarts),
    p.spec?.nodeName ?? '-',
    p.status?.podIP ?? '-',
    age(p.metadata?.creationTimestamp, now),
  ];
}

export function renderStatus(nodes: readonly V1Node[], pods: readonly V1Pod[], now: Date): string[] {
  const byName = <T extends { metadata?: { name?: string; namespace?: string } }>(a: T, b: T): number =>
    `${a.metadata?.namespace ?? ''}/${a.metadata?.name ?? ''}`.localeCompare(`${b.metadata?.namespace ?? ''}/${b.metadata?.name ?? ''}`);
  const out = table(['NODE', 'SITE', 'STATUS', 'IP', 'AGE'], [...nodes].sort(byName).map((n) => nodeRow(n, now)));
  out.push('');
  out.push(...(pods.length === 0
    ? ['no pods yet: kubectl apply something']
    : table(['POD', 'READY', 'STATUS', 'RESTARTS', 'NODE', 'IP', 'AGE'], [...pods].sort(byName).map((p) => podRow(p, now)))));
  return out;
}
