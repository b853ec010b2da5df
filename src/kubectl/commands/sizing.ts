// kubectl zcsp sizing: the storage and bandwidth protection needs. For a VPG, the report the
// operator keeps in its status from the measured change rate; for a Zorg, its totals and a line
// per VPG the user may read; for hypothetical figures, the same arithmetic (src/sizing) run here,
// with no API server.
import { SITES, VPGS, ZORGS } from '../../controllers/resources.ts';
import type { SiteStatus } from '../../crds/site.ts';
import type { ZorgSpec, ZorgStatus } from '../../crds/zorg.ts';
import { ApiError } from '../../runtime/index.ts';
import {
  DEFAULT_PEAK_FACTOR, SizingError, assumptionsOf, bitsText, bytesText, estimate, fromDailyChange, parseCompression, parseFactor, parseHardLimit,
  parseHours, parsePercent, parseSize, percentText, renderReport, renderTotals, spanText, total,
  type DailyChangeFigures, type SizingReport, type SizingTotals,
} from '../../sizing/index.ts';
import { Flags, UsageError, parseDuration } from '../args.ts';
import type { Command, Context, Run } from '../command.ts';
import { CommandError } from '../errors.ts';
import { table } from '../format.ts';
import type { Vpg } from '../vpg.ts';
import { getVpg, print } from './shared.ts';

/** The flags of hypothetical figures; none of them goes with a VPG or a Zorg, whose figures are measured. */
const HYPOTHETICAL_FLAGS = ['protected', 'daily-change', 'history', 'compression', 'failback', 'hard-limit', 'rpo', 'peak-factor'] as const;

// History and RPO as a ServiceProfile defaults them; no compression and no hard limit unless given,
// so that what is left out never makes the estate look smaller.
const DEFAULTS = { history: '24h', compression: '1', hardLimit: 'unlimited', rpo: '5m' } as const;

/** Which flag a figure came from, so that a refusal of the arithmetic names what the user typed. */
const FLAG_OF_FIELD: Readonly<Record<string, string>> = {
  protectedBytes: '--protected', dailyChangePercent: '--daily-change', peakFactor: '--peak-factor', compressionRatio: '--compression',
  historyHours: '--history', 'hardLimit.bytes': '--hard-limit', 'hardLimit.percent': '--hard-limit', rpoSeconds: '--rpo',
};

type VpgSizing = NonNullable<NonNullable<Vpg['status']>['sizing']>;
type Basis = VpgSizing['basis'];

interface Zorg {
  metadata?: { name?: string };
  spec?: ZorgSpec;
  status?: ZorgStatus;
}

/** Runs the sizing arithmetic, turning a refusal into a usage error that names the flag. */
function asUsage<T>(compute: () => T): T {
  try {
    return compute();
  } catch (err: unknown) {
    if (!(err instanceof SizingError)) throw err;
    throw new UsageError(`${FLAG_OF_FIELD[err.field] ?? err.field}: ${err.problem}`);
  }
}

/** The hypothetical figures of the command line; throws UsageError naming the flag at fault. */
export function hypotheticalFigures(flags: Flags): DailyChangeFigures {
  const value = (name: string, fallback?: string): string => {
    const v = flags.string(name) ?? fallback;
    if (v === undefined) throw new UsageError(`missing --${name} (hypothetical figures need --protected SIZE and --daily-change PERCENT)`);
    return v;
  };
  return asUsage(() => {
    const peak = flags.string('peak-factor');
    return {
      protectedBytes: parseSize('--protected', value('protected')),
      dailyChangePercent: parsePercent('--daily-change', value('daily-change')),
      ...(peak !== undefined && { peakFactor: parseFactor('--peak-factor', peak) }),
      compressionRatio: parseCompression('--compression', value('compression', DEFAULTS.compression)),
      historyHours: parseHours('--history', value('history', DEFAULTS.history)),
      hardLimit: parseHardLimit('--hard-limit', value('hard-limit', DEFAULTS.hardLimit)),
      rpoSeconds: parseDuration('--rpo', value('rpo', DEFAULTS.rpo)) / 1000,
      reverseProtection: flags.boolean('failback', false),
    };
  });
}

function hypothetical(flags: Flags): Run {
  const figures = hypotheticalFigures(flags);
  // Computed before anything runs: a figure the arithmetic refuses is a usage mistake (exit 2).
  const report = asUsage(() => estimate(fromDailyChange(figures)));
  const notes = assumptionsOf(figures);
  return (ctx) => {
    print(ctx, { basis: { source: 'Hypothetical', peakFactor: figures.peakFactor ?? DEFAULT_PEAK_FACTOR }, ...report },
      renderReport(report, { heading: [['Sizing', 'hypothetical figures']], notes }));
    return Promise.resolve(0);
  };
}

function basisText(basis: Basis): string {
  const since = basis.since === undefined ? '' : ` since ${basis.since}`;
  const span = spanText(basis.measuredSeconds);
  return basis.source === 'Assessment'
    ? `an assessment: ${span} of change measured${since}, nothing replicated yet`
    : `${span} of change measured while replicating${since}`;
}

function basisNotes(basis: Basis): string[] {
  return basis.measuredSeconds < 86_400
    ? [`only ${spanText(basis.measuredSeconds)} measured: a daily cycle (backups, batch jobs) may not be in the figures yet`]
    : [];
}

/** Why a VPG has no figures yet, and what to do about it. */
function noSizingYet(vpg: Vpg, name: string, ctx: Context): string {
  const subject = `VPG ${name} in namespace ${ctx.namespace} has no sizing yet`;
  if (vpg.spec?.mode === 'Assess') return `${subject}: its assessment has not measured a change rate yet; come back in a few minutes`;
  const phase = vpg.status?.phase;
  const why = phase === undefined ? 'the operator has not reported on it yet'
    : phase === 'Initializing' ? 'no change rate measured yet: the VPG is still in its initial sync'
      : 'no change rate measured yet';
  return `${subject}: ${why}; come back after a few minutes of protection, or measure before protecting with an assessment `
    + '(a VPG with spec.mode: Assess); for hypothetical figures: kubectl zcsp sizing --protected SIZE --daily-change PERCENT';
}

function forVpg(name: string): Run {
  return async (ctx) => {
    const vpg = await getVpg(ctx, name);
    const sizing = vpg.status?.sizing;
    if (sizing === undefined) throw new CommandError(noSizingYet(vpg, name, ctx));
    print(ctx, sizing, renderReport(sizing, {
      heading: [['VPG', `${ctx.namespace}/${name}`], ['Basis', basisText(sizing.basis)]],
      notes: basisNotes(sizing.basis),
    }));
    return 0;
  };
}

interface VpgLine {
  namespace: string;
  name: string;
  sizing: VpgSizing | undefined;
}

/** The VPGs of the namespace; undefined when the user may not list them. */
async function vpgsIn(ctx: Context, namespace: string): Promise<Vpg[] | undefined> {
  const items: Vpg[] = [];
  let next: string | undefined;
  try {
    do {
      const page = await ctx.client.list(VPGS, { namespace, limit: 500, continue: next });
      items.push(...page.items as Vpg[]);
      next = page.metadata?.continue;
    } while (next !== undefined && next !== '');
  } catch (err: unknown) {
    if (err instanceof ApiError && err.statusCode === 403) return undefined;
    throw err;
  }
  return items;
}

async function getZorg(ctx: Context, name: string): Promise<Zorg> {
  try {
    return await ctx.client.get(ZORGS, name) as Zorg;
  } catch (err: unknown) {
    if (err instanceof ApiError && err.statusCode === 404 && err.status?.details?.name === name) throw new CommandError(`no Zorg ${name}`);
    throw err;
  }
}

function journalCell(r: SizingReport): string {
  const share = r.journal.percentOfHardLimit === undefined ? '' : ` (${percentText(r.journal.percentOfHardLimit)} of limit${r.journal.exceedsHardLimit ? '!' : ''})`;
  return `${bytesText(r.journal.projectedBytes)}${share}`;
}

/** One line per VPG; those without figures yet say so. */
function vpgTable(lines: readonly VpgLine[]): string {
  const rows = lines.map(({ namespace, name, sizing: s }) => s === undefined
    ? [namespace, name, '-', '-', '-', '-', '-', '-', '-', '-', 'not yet']
    : [
      namespace, name, bytesText(s.protectedBytes), percentText(s.change.dailyChangePercent), journalCell(s), bytesText(s.recoverySite.steadyBytes),
      bytesText(s.failoverTest.claimBytes + s.failoverTest.scratchBytes), s.reverseProtection === undefined ? '-' : bytesText(s.reverseProtection.totalBytes),
      bitsText(s.wan.averageBitsPerSecond), bitsText(s.wan.rpoBitsPerSecond),
      `${spanText(s.basis.measuredSeconds)}${s.basis.source === 'Assessment' ? ' (assessment)' : ''}`,
    ]);
  return table(['NAMESPACE', 'NAME', 'PROTECTED', 'CHANGE/DAY', 'JOURNAL', 'RECOVERY SITE', 'TEST', 'FAILBACK', 'WAN AVG', 'WAN RPO', 'MEASURED'], rows);
}

function forZorg(name: string): Run {
  return async (ctx) => {
    const zorg = await getZorg(ctx, name);
    const lines: VpgLine[] = [];
    const skipped: string[] = [];
    for (const namespace of zorg.spec?.namespaces ?? []) {
      const vpgs = await vpgsIn(ctx, namespace);
      if (vpgs === undefined) {
        skipped.push(namespace);
        ctx.io.err(`skipped namespace ${namespace}: you may not list its VPGs\n`);
        continue;
      }
      lines.push(...vpgs.map((v) => ({ namespace, name: v.metadata?.name ?? '', sizing: v.status?.sizing })));
    }
    const measured = lines.flatMap((l) => (l.sizing === undefined ? [] : [l.sizing]));
    const own = zorg.status?.sizing;
    // Until the operator has summed the Zorg, sum what this user can see, and say so.
    const totals: SizingTotals = own ?? total(measured);
    const source = own !== undefined ? 'the Zorg\'s status (every VPG of the Zorg)'
      : `summed here from the ${String(measured.length)} VPG(s) listed: the Zorg's status has no sizing yet`;
    print(ctx, { zorg: name, totalsFrom: own !== undefined ? 'Zorg' : 'VPGs listed', sizing: totals, vpgs: lines, skippedNamespaces: skipped }, [
      renderTotals(totals, { heading: [['Zorg', name], ['Totals', source]] }),
      '',
      lines.length === 0 ? 'No VPGs in the namespaces you may read.' : vpgTable(lines),
    ].join('\n'));
    return 0;
  };
}

/**
 * A Site's figures, as the operator sums them in its status: the VPGs that recover there and those
 * protected there, against its VRA volumes. For providers: tenants cannot read Sites.
 */
function forSite(name: string): Run {
  return async (ctx) => {
    let site: { status?: SiteStatus };
    try {
      site = await ctx.client.get(SITES, name);
    } catch (err: unknown) {
      if (err instanceof ApiError && err.statusCode === 404 && err.status?.details?.name === name) throw new CommandError(`no Site ${name}`);
      throw err;
    }
    const sizing = site.status?.sizing;
    if (sizing === undefined) throw new CommandError(`Site ${name} has no sizing yet: none of the VPGs protected at it or recovering to it has a measured change rate yet`);
    const capacity = site.status?.conditions?.find((c) => c.type === 'CapacitySufficient');
    const volumes = sizing.vraCapacityBytes === undefined ? 'no VRA yet' : bytesText(sizing.vraCapacityBytes);
    print(ctx, { site: name, ...sizing }, [
      renderTotals(sizing.asRecoverySite, { heading: [['Site', name], ['As', 'the recovery site of these VPGs'], ['VRA volumes', volumes]] }),
      ...(capacity === undefined ? [] : [`Capacity:      ${capacity.message}`]),
      '',
      renderTotals(sizing.asProtectedSite, { heading: [['As', 'the protected site of these VPGs: their WAN out, and what failback would need here']] }),
    ].join('\n'));
    return 0;
  };
}

export const sizingCommand: Command = {
  name: 'sizing',
  args: '[VPG]',
  summary: 'the storage and bandwidth a VPG, a Zorg, or hypothetical figures need',
  details: [
    'Three forms:',
    '  sizing VPG               the figures the operator keeps in the VPG\'s status, from the change rate it measured',
    '  sizing --zorg NAME       the Zorg\'s totals, and a line per VPG of its namespaces you may read',
    '  sizing --site NAME       a Site\'s totals as recovery site and as protected site, against its VRA volumes (providers)',
    '  sizing --protected SIZE --daily-change PERCENT [...]',
    '                           the same figures for hypothetical ones, computed here: no API server needed',
    'Each gives the replica; the journal for the configured history, against its hard limit; the space a failover test and a',
    'failover take; the space reverse protection needs on the protected site; and the WAN bandwidth that holds the RPO.',
    'Figures are in decimal units (1 TB = 10^12 bytes, 1 Gbit/s = 10^9 bit/s); sizes may be given in binary units too (TiB).',
  ].join('\n'),
  flags: ['zorg', 'site', ...HYPOTHETICAL_FLAGS, 'output'],
  prepare(args, flags) {
    if (args.length > 1) throw new UsageError(`unexpected argument "${args[1] ?? ''}"`);
    const name = args[0];
    const zorg = flags.string('zorg');
    const site = flags.string('site');
    const given = HYPOTHETICAL_FLAGS.filter((f) => flags.has(f));
    if ([name, zorg, site].filter((x) => x !== undefined).length > 1) throw new UsageError('give one of a VPG, --zorg and --site');
    const measured = name !== undefined ? `VPG ${name}` : zorg !== undefined ? `--zorg ${zorg}` : site !== undefined ? `--site ${site}` : undefined;
    if (measured !== undefined && given[0] !== undefined) {
      throw new UsageError(`--${given[0]} is for hypothetical figures: ${measured} is sized from what was measured; give one or the other`);
    }
    if (name !== undefined) return forVpg(name);
    if (zorg !== undefined) {
      if (zorg === '') throw new UsageError('--zorg: give the Zorg\'s name');
      return forZorg(zorg);
    }
    if (site !== undefined) {
      if (site === '') throw new UsageError('--site: give the Site\'s name');
      return forSite(site);
    }
    if (given.length === 0) throw new UsageError('give a VPG, --zorg NAME, --site NAME, or hypothetical figures (--protected SIZE --daily-change PERCENT)');
    return hypothetical(flags);
  },
};
