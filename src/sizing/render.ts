// A report and totals as plain text, label: value, for kubectl and the console. Every figure says
// what it is for, so the text reads without the field names.
import { UNITS_NOTE, bitsText, bytesText, hoursText, percentText, rateText, ratioText, spanText } from './format.ts';
import type { SizingReport, SizingTotals } from './types.ts';

type Row = readonly [label: string, value: string];

export interface RenderOptions {
  /** Rows to print first, aligned with the figures (what is sized, and on what basis). */
  heading?: readonly Row[] | undefined;
  /** What the figures rest on, beyond what the report holds (e.g. an assumed peak). */
  notes?: readonly string[] | undefined;
}

function aligned(figures: readonly Row[], options: RenderOptions): string {
  const rows = [...(options.heading ?? []), ...figures];
  const notes = options.notes ?? [];
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  const lines = rows.map(([label, value]) => `${`${label}:`.padEnd(width)}${value}`);
  if (notes.length > 0) lines.push('Notes:', ...notes.map((n) => `  - ${n}`));
  return lines.join('\n');
}

function journalText(r: SizingReport): string {
  const j = r.journal;
  const projected = `${bytesText(j.projectedBytes)} projected for ${hoursText(j.historyHours)} of history`;
  if (j.hardLimitBytes === undefined) return `${projected} (hard limit: unlimited)`;
  const warning = j.warningBytes === undefined ? '' : ` (warning at ${bytesText(j.warningBytes)})`;
  const share = j.percentOfHardLimit === undefined ? '' : `${percentText(j.percentOfHardLimit)} of `;
  const held = j.historyHoursAtHardLimit === undefined ? '' : hoursText(j.historyHoursAtHardLimit);
  const base = `${projected}: ${share}the hard limit ${bytesText(j.hardLimitBytes)}${warning}`;
  if (j.exceedsHardLimit) {
    return `${base}. OVER THE HARD LIMIT: the journal holds ${held} of history; older changes are applied to the replica early`;
  }
  const past = j.exceedsWarning ? '; past the warning threshold' : '';
  return held === '' ? `${base}${past}` : `${base}${past}; the hard limit holds ${held} of history`;
}

export function renderReport(r: SizingReport, options: RenderOptions = {}): string {
  const c = r.change;
  const compression = c.compressionRatio === 1 ? 'no compression' : `compression ${ratioText(c.compressionRatio)}`;
  const journalSpace = r.recoverySite.steadyBytes - r.replicaBytes;
  const reverse = r.reverseProtection;
  return aligned([
    ['Protected', `${bytesText(r.protectedBytes)} (${UNITS_NOTE})`],
    ['Change', `${percentText(c.dailyChangePercent)} of the protected size a day: ${rateText(c.averageBytesPerHour)} on average, peak ${rateText(c.peakBytesPerHour)}; `
      + `${compression}: ${rateText(c.averageCompressedBytesPerHour)} on average, peak ${rateText(c.peakCompressedBytesPerHour)} sent`],
    ['Replica', `${bytesText(r.replicaBytes)} on the recovery site (a full copy of the protected volumes)`],
    ['Journal', journalText(r)],
    ['Recovery site', `${bytesText(r.recoverySite.steadyBytes)} (replica + journal of ${bytesText(journalSpace)}, of which up to ${bytesText(r.journal.fileOverheadBytes)} `
      + `is segment files beyond the records: spares kept for reuse, the oldest partly applied); ${bytesText(r.recoverySite.duringTestBytes)} during a failover test`],
    ['Failover test', `${bytesText(r.failoverTest.claimBytes)} of claims in the test namespace + ${bytesText(r.failoverTest.scratchBytes)} of scratch on the recovery VRA's volume while they restore`],
    ['Failover', `${bytesText(r.failover.claimBytes)} of claims in the recovery namespace + ${bytesText(r.failover.scratchBytes)} of scratch on the recovery VRA's volume while they restore`],
    ['Failback', reverse === undefined
      ? 'not wanted: nothing more on the protected site after a failover'
      : `${bytesText(reverse.totalBytes)} more on the protected site after a failover (reverse replica ${bytesText(reverse.replicaBytes)} + journal ${bytesText(reverse.journalBytes)})`],
    ['WAN', `${bitsText(r.wan.averageBitsPerSecond)} on average, ${bitsText(r.wan.peakBitsPerSecond)} at the peak; `
      + `${bitsText(r.wan.rpoBitsPerSecond)} holds the RPO target of ${spanText(r.wan.rpoSeconds)} through the peak (all after compression)`],
  ], options);
}

export function renderTotals(t: SizingTotals, options: RenderOptions = {}): string {
  const over = t.vpgsOverHardLimit === 0 ? 'none over its journal hard limit' : `${String(t.vpgsOverHardLimit)} over its journal hard limit`;
  return aligned([
    ['VPGs', `${String(t.vpgs)} with figures; ${over}`],
    ['Protected', `${bytesText(t.protectedBytes)} (${UNITS_NOTE})`],
    ['Recovery site', `${bytesText(t.recoverySiteSteadyBytes)} (replicas ${bytesText(t.replicaBytes)} + journals, projected at ${bytesText(t.journalProjectedBytes)}, each at most its hard limit, plus its segment files' overhead)`],
    ['Failover tests', `${bytesText(t.failoverTestBytes)} of claims and scratch with every VPG tested at once; ${bytesText(t.recoverySiteDuringTestBytes)} on the recovery site then`],
    ['Failback', t.reverseProtectionBytes === 0
      ? 'no VPG wants it: nothing more on the protected sites after failovers'
      : `${bytesText(t.reverseProtectionBytes)} more on the protected sites after failovers of every VPG that wants it`],
    ['WAN', `${bitsText(t.wan.averageBitsPerSecond)} on average; ${bitsText(t.wan.peakBitsPerSecond)} at the peak and ${bitsText(t.wan.rpoBitsPerSecond)} to hold the RPO targets, `
      + 'summed as if every VPG peaked at once (conservative)'],
  ], options);
}
