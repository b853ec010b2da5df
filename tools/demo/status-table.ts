// The demo's live view: VPGs, Sites and ZCCs, then the nodes and pods of the cluster. Pure
// functions of what the API returned, so they are tested as text.
import type { V1Node, V1Pod } from '@kubernetes/client-node';

/** Left-aligned columns separated by two spaces, like kubectl's tables; no header row. */
export function columns(rows: readonly (readonly string[])[]): string[] {
  const count = Math.max(0, ...rows.map((r) => r.length));
  const widths = Array.from({ length: count }, (_, i) => Math.max(0, ...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((cells) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
}

/** Left-aligned columns under a header row. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return columns([header, ...rows]);
}

/** A cell of at most `max` characters: longer text keeps its start and ends in "…". */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

export function age(from: Date | undefined, now: Date): string {
  if (from === undefined) return '-';
  const s = Math.max(0, Math.floor((now.getTime() - from.getTime()) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  return `${Math.floor(s / 3600)}h`;
}

/** Seconds for people: 42s, 3m05s, 2h10m. */
export function seconds(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s) || s < 0) return '-';
  const whole = Math.floor(s);
  if (whole < 60) return `${whole}s`;
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(whole / 3600)}h${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')}m`;
}

// What the view reads of the zcsp objects. Loose on purpose: a status may be partly written, or
// written by an older or newer operator; whatever is absent shows as "-".
interface Meta { name?: string; namespace?: string }
interface Condition { type?: string; status?: string; reason?: string }

export interface VpgView {
  metadata?: Meta;
  status?: {
    phase?: string;
    substatus?: string;
    rpoSeconds?: number;
    journal?: { actualHistory?: string; used?: string };
    sync?: { type?: string; progressPercent?: number };
  };
}

export interface SiteView {
  metadata?: Meta;
  status?: { vras?: { desired?: number; ready?: number }; conditions?: Condition[] };
}

export interface ZccView {
  metadata?: Meta;
  spec?: { zorg?: string; replicas?: number };
  status?: { readyReplicas?: number; endpoint?: string; conditions?: Condition[] };
}

export interface RenderOptions {
  /**
   * false: the figures that move on their own (RPO, history, journal use; sync progress below
   * 10 % steps) render as placeholders. The demo compares such renderings to print a new table
   * into a file only when something happened.
   */
  figures?: boolean;
}

const dash = (v: string | number | undefined): string => (v === undefined || v === '' ? '-' : String(v));
const NAME_MAX = 40;

function key(o: { metadata?: Meta }): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}
const byKey = (a: { metadata?: Meta }, b: { metadata?: Meta }): number => key(a).localeCompare(key(b));

function syncCell(sync: NonNullable<VpgView['status']>['sync'], figures: boolean): string {
  if (sync === undefined) return '-';
  const p = sync.progressPercent;
  const percent = p === undefined ? '-' : figures ? `${p}%` : `${Math.floor(p / 10) * 10}%+`;
  return sync.type === undefined ? percent : `${percent} ${sync.type}`;
}

function vpgRow(v: VpgView, figures: boolean): string[] {
  const s = v.status;
  const figure = (text: string): string => (figures || text === '-' ? text : '~');
  return [
    clip(dash(v.metadata?.namespace), NAME_MAX),
    clip(dash(v.metadata?.name), NAME_MAX),
    dash(s?.phase),
    dash(s?.substatus),
    figure(seconds(s?.rpoSeconds)),
    figure(dash(s?.journal?.actualHistory)),
    figure(dash(s?.journal?.used)),
    syncCell(s?.sync, figures),
  ];
}

/** The reason of a Ready condition that is not True, as a short note. */
function notReady(conditions: readonly Condition[] | undefined): string {
  const ready = conditions?.find((c) => c.type === 'Ready');
  if (ready === undefined) return '';
  return ready.status === 'True' ? '' : `not ready: ${ready.reason ?? ready.status ?? 'Unknown'}`;
}

/**
 * One row per VPG (all namespaces), then a line per Site (its VRAs) and per ZCC (its connector
 * pods). The VPG columns are those of `kubectl get vpg` plus the sync in progress.
 */
export function renderVpgs(
  vpgs: readonly VpgView[], sites: readonly SiteView[], zccs: readonly ZccView[], options: RenderOptions = {},
): string[] {
  const figures = options.figures !== false;
  const out = vpgs.length === 0
    ? ['no VPGs yet: kubectl apply -f examples/06-vpg.yaml makes one']
    : table(['NAMESPACE', 'VPG', 'PHASE', 'SUBSTATUS', 'RPO', 'HISTORY', 'JOURNAL', 'SYNC%'],
      [...vpgs].sort(byKey).map((v) => vpgRow(v, figures)));
  out.push('');
  const lines: string[][] = [];
  for (const s of [...sites].sort(byKey)) {
    const vras = s.status?.vras;
    lines.push(['site', clip(dash(s.metadata?.name), NAME_MAX), `VRAs ${dash(vras?.ready)}/${dash(vras?.desired)} ready`, notReady(s.status?.conditions)]);
  }
  for (const z of [...zccs].sort(byKey)) {
    const name = z.metadata?.namespace === undefined ? dash(z.metadata?.name) : key(z);
    const detail = [z.spec?.zorg === undefined ? '' : `zorg ${z.spec.zorg}`, z.status?.endpoint === undefined ? '' : `at ${z.status.endpoint}`]
      .filter((d) => d !== '').join(', ');
    const note = notReady(z.status?.conditions);
    lines.push(['zcc', clip(name, NAME_MAX), `pods ${dash(z.status?.readyReplicas)}/${dash(z.spec?.replicas)} ready`, [note, detail].filter((d) => d !== '').join('; ')]);
  }
  if (sites.length === 0) lines.push(['site', '-', 'no Sites yet: kubectl apply -f examples/01-sites.yaml', '']);
  if (zccs.length === 0) lines.push(['zcc', '-', 'no ZCCs yet: kubectl apply -f examples/04-zcc.yaml', '']);
  out.push(...columns(lines));
  return out;
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
    clip(`${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`, 2 * NAME_MAX),
    `${ready}/${p.spec?.containers.length ?? 0}`,
    phase,
    String(restarts),
    p.spec?.nodeName ?? '-',
    p.status?.podIP ?? '-',
    age(p.metadata?.creationTimestamp, now),
  ];
}

export function renderStatus(nodes: readonly V1Node[], pods: readonly V1Pod[], now: Date): string[] {
  const out = table(['NODE', 'SITE', 'STATUS', 'IP', 'AGE'], [...nodes].sort(byKey).map((n) => nodeRow(n, now)));
  out.push('');
  out.push(...(pods.length === 0
    ? ['no pods yet: kubectl apply something']
    : table(['POD', 'READY', 'STATUS', 'RESTARTS', 'NODE', 'IP', 'AGE'], [...pods].sort(byKey).map((p) => podRow(p, now)))));
  return out;
}

export interface Snapshot {
  vpgs: readonly VpgView[];
  sites: readonly SiteView[];
  zccs: readonly ZccView[];
  nodes: readonly V1Node[];
  pods: readonly V1Pod[];
}

/** The whole view: VPGs, Sites and ZCCs on top, nodes and pods below. */
export function renderDemo(s: Snapshot, now: Date, options: RenderOptions = {}): string[] {
  return [...renderVpgs(s.vpgs, s.sites, s.zccs, options), '', ...renderStatus(s.nodes, s.pods, now)];
}

/**
 * Lines that fit a terminal of `rows` x `cols` without wrapping or scrolling, so the view can be
 * redrawn in place: long lines are cut, and what does not fit is counted on the last line.
 */
export function fitScreen(lines: readonly string[], rows: number | undefined, cols: number | undefined): string[] {
  const width = cols === undefined || cols < 10 ? Infinity : cols - 1;
  const cut = lines.map((l) => (l.length > width ? clip(l, width) : l));
  if (rows === undefined || rows < 3 || cut.length <= rows - 1) return cut;
  const keep = rows - 2;
  return [...cut.slice(0, keep), `… ${cut.length - keep} more lines (a taller window shows them)`];
}
