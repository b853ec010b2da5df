// kubectl zcsp sizing, without an API server: its command line (which figures go together, each
// refusal naming the flag), hypothetical figures end to end, and what it prints from a VPG's and
// a Zorg's status as a stand-in client returns them. The real API server is in
// test/integration/kubectl-sizing.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, type KubeClient } from '../../runtime/index.ts';
import { estimate, fromDailyChange, total } from '../../sizing/index.ts';
import { Flags, UsageError } from '../args.ts';
import type { Context } from '../command.ts';
import { CommandError } from '../errors.ts';
import { hypotheticalFigures, sizingCommand } from './sizing.ts';

const flagsOf = (values: Record<string, string | boolean>): Flags => new Flags(new Map(Object.entries(values)));

/** A client that fails the test if the command reaches for the API server. */
const noApiServer = new Proxy({}, {
  get: (_target, property) => {
    throw new Error(`a hypothetical sizing used the API server (client.${String(property)})`);
  },
}) as KubeClient;

interface Captured {
  ctx: Context;
  out: () => string;
  err: () => string;
}

function capture(client: KubeClient, json = false): Captured {
  let out = '';
  let err = '';
  const ctx: Context = {
    client, namespace: 'acme', now: () => Date.parse('2025-03-01T10:00:00Z'), wait: true, timeoutMs: 1000, json,
    io: { out: (t) => (out += t), err: (t) => (err += t) },
  };
  return { ctx, out: () => out, err: () => err };
}

const ESTATE = { protected: '403TB', 'daily-change': '10%', history: '24h', compression: '2', failback: true, rpo: '5m' };

describe('kubectl zcsp sizing: the command line', () => {
  it('refuses mixing a VPG, a Zorg or a Site with each other or with hypothetical figures, and asks for one of the four', () => {
    for (const [args, flags, message] of [
      [['web'], { protected: '1TB' }, /^--protected is for hypothetical figures: VPG web is sized from what was measured/],
      [[], { zorg: 'acme', 'daily-change': '5%' }, /^--daily-change is for hypothetical figures: --zorg acme is sized/],
      [['web'], { zorg: 'acme' }, /^give one of a VPG, --zorg and --site$/],
      [[], { zorg: 'acme', site: 'dr' }, /^give one of a VPG, --zorg and --site$/],
      [[], { site: 'dr', history: '24h' }, /^--history is for hypothetical figures: --site dr is sized/],
      [[], { site: '' }, /^--site: give the Site's name$/],
      [['web', 'db'], {}, /^unexpected argument "db"$/],
      [[], {}, /^give a VPG, --zorg NAME, --site NAME, or hypothetical figures/],
      [[], { zorg: '' }, /^--zorg: give the Zorg's name$/],
      [[], { 'daily-change': '10%' }, /^missing --protected/],
      [[], { protected: '1TB' }, /^missing --daily-change/],
    ] as const) {
      assert.throws(() => sizingCommand.prepare(args, flagsOf(flags)), (err: unknown) => err instanceof UsageError && message.test(err.message), `${args.join(' ')} ${JSON.stringify(flags)}`);
    }
  });

  it('refuses a figure it cannot read or size, naming the flag', () => {
    for (const [change, message] of [
      [{ protected: '403 tons' }, /^--protected: "403 tons": unknown unit "tons"/],
      [{ protected: '0TB' }, /^--protected: 0 must be more than 0$/],
      [{ 'daily-change': '10' }, /^--daily-change: "10": write the percentage with its sign/],
      [{ 'daily-change': '120%' }, /^--daily-change: 120 % is outside \(0, 100\] %$/],
      [{ history: '800h' }, /^--history: 800 hours is outside 1–720 hours/],
      [{ history: '24' }, /^--history: "24": give the unit/],
      [{ compression: '50%' }, /^--compression: "50%": a percentage is ambiguous/],
      [{ compression: '0.5' }, /^--compression: 0\.5 is below 1/],
      [{ 'hard-limit': '0%' }, /^--hard-limit: 0 % is outside \(0, 1000\] %$/],
      [{ 'hard-limit': 'lots' }, /^--hard-limit: "lots" is not a hard limit/],
      [{ rpo: 'soon' }, /^--rpo: "soon" is not a duration/],
      [{ 'peak-factor': '0.5' }, /^--peak-factor: 0\.5 is below 1/],
    ] as const) {
      assert.throws(() => sizingCommand.prepare([], flagsOf({ ...ESTATE, ...change })), (err: unknown) => err instanceof UsageError && message.test(err.message), JSON.stringify(change));
    }
  });

  it('reads the hypothetical figures, with defaults for what is left out', () => {
    assert.deepEqual(hypotheticalFigures(flagsOf({ protected: '1.5PB', 'daily-change': '2.5%' })), {
      protectedBytes: 1.5e15, dailyChangePercent: 2.5, compressionRatio: 1, historyHours: 24, hardLimit: { type: 'Unlimited' }, rpoSeconds: 300, reverseProtection: false,
    });
    assert.deepEqual(hypotheticalFigures(flagsOf({ ...ESTATE, 'hard-limit': '10%', 'peak-factor': '1.5', rpo: '90s' })), {
      protectedBytes: 403e12, dailyChangePercent: 10, peakFactor: 1.5, compressionRatio: 2, historyHours: 24,
      hardLimit: { type: 'Percent', percent: 10 }, rpoSeconds: 90, reverseProtection: true,
    });
  });
});

describe('kubectl zcsp sizing: hypothetical figures', () => {
  it('prints the estate without an API server', async () => {
    const c = capture(noApiServer);
    assert.equal(await sizingCommand.prepare([], flagsOf(ESTATE))(c.ctx), 0);
    const text = c.out();
    assert.match(text, /^Sizing: +hypothetical figures$/m);
    assert.match(text, /^Journal: +20\.15 TB projected for 1d of history \(hard limit: unlimited\)$/m);
    assert.match(text, /^Failover test: +403 TB of claims in the test namespace \+ 403 TB of scratch/m);
    assert.match(text, /^Failback: +423\.16 TB more on the protected site after a failover \(reverse replica 403 TB \+ journal 20\.16 TB\)$/m);
    assert.match(text, /^WAN: +1\.87 Gbit\/s on average/m);
    assert.match(text, /^ {2}- the peak is taken as the average/m);
  });

  it('prints the report as JSON with -o json', async () => {
    const c = capture(noApiServer, true);
    await sizingCommand.prepare([], flagsOf({ ...ESTATE, 'hard-limit': '4%' }))(c.ctx);
    const data = JSON.parse(c.out()) as { basis: unknown; journal: { projectedBytes: number; hardLimitBytes: number; exceedsHardLimit: boolean }; wan: { averageBitsPerSecond: number } };
    assert.deepEqual(data.basis, { source: 'Hypothetical', peakFactor: 1 });
    // 10 % of 403 TB a day, halved: 20.15 TB; 4 % of 403 TB = 16.12 TB; 20.15e12 × 8 ÷ 86 400 s.
    assert.equal(data.journal.projectedBytes, 20_150_000_000_000);
    assert.equal(data.journal.hardLimitBytes, 16_120_000_000_000);
    assert.equal(data.journal.exceedsHardLimit, true);
    assert.equal(data.wan.averageBitsPerSecond, Math.ceil((20_150_000_000_000 * 8) / 86_400));
  });
});

/** A stand-in for the few reads the command makes: get a VPG or Zorg, list VPGs; 403 for namespaces in `forbidden`. */
function fakeClient(objects: { vpgs?: Record<string, unknown>[]; zorg?: Record<string, unknown>; forbidden?: string[] }): KubeClient {
  const notFound = (name: string): ApiError => new ApiError({ statusCode: 404, method: 'GET', path: '', status: { details: { name } } });
  const client = {
    get: (r: { kind: string }, name: string, namespace?: string) => {
      if (r.kind === 'Zorg') return objects.zorg !== undefined ? Promise.resolve(objects.zorg) : Promise.reject(notFound(name));
      const found = (objects.vpgs ?? []).find((v) => (v['metadata'] as { name: string; namespace: string }).name === name
        && (v['metadata'] as { namespace: string }).namespace === namespace);
      return found !== undefined ? Promise.resolve(found) : Promise.reject(notFound(name));
    },
    list: (_r: unknown, options: { namespace: string }) => {
      if ((objects.forbidden ?? []).includes(options.namespace)) return Promise.reject(new ApiError({ statusCode: 403, method: 'GET', path: '' }));
      return Promise.resolve({ items: (objects.vpgs ?? []).filter((v) => (v['metadata'] as { namespace: string }).namespace === options.namespace), metadata: {} });
    },
  };
  return client as unknown as KubeClient;
}

// 1 TB, 5 % a day (50 GB), 2:1, 24 h: 25 GB of journal; 25e9 × 8 ÷ 86 400 s = 2 314 814.8 bit/s.
const measured = {
  basis: { source: 'Measured', measuredSeconds: 3 * 86_400, since: '2025-02-26T10:00:00Z' },
  ...estimate(fromDailyChange({ protectedBytes: 1e12, dailyChangePercent: 5, compressionRatio: 2, historyHours: 24, hardLimit: { type: 'Unlimited' }, rpoSeconds: 300, reverseProtection: false })),
};
const vpg = (name: string, namespace: string, status: Record<string, unknown>): Record<string, unknown> => ({ metadata: { name, namespace }, spec: {}, status });

describe('kubectl zcsp sizing VPG', () => {
  it('prints the report the operator keeps in the status, and its basis', async () => {
    const c = capture(fakeClient({ vpgs: [vpg('web', 'acme', { phase: 'MeetingSLA', sizing: measured })] }));
    assert.equal(await sizingCommand.prepare(['web'], flagsOf({}))(c.ctx), 0);
    assert.match(c.out(), /^VPG: +acme\/web$/m);
    assert.match(c.out(), /^Basis: +3d of change measured while replicating since 2025-02-26T10:00:00Z$/m);
    assert.match(c.out(), /^Journal: +25 GB projected for 1d of history/m);
    assert.match(c.out(), /^WAN: +2\.32 Mbit\/s on average/m);
    assert.doesNotMatch(c.out(), /Notes:/);
  });

  it('says when the measurement is short, and what an assessment is', async () => {
    const short = { ...measured, basis: { source: 'Assessment', measuredSeconds: 2 * 3600 } };
    const c = capture(fakeClient({ vpgs: [vpg('web', 'acme', { sizing: short })] }));
    await sizingCommand.prepare(['web'], flagsOf({}))(c.ctx);
    assert.match(c.out(), /^Basis: +an assessment: 2h of change measured, nothing replicated yet$/m);
    assert.match(c.out(), /^ {2}- only 2h measured: a daily cycle/m);
  });

  it('says why there is no report yet (exit 1, as a CommandError)', async () => {
    for (const [status, spec, message] of [
      [{ phase: 'Initializing' }, {}, /no sizing yet: no change rate measured yet: the VPG is still in its initial sync; come back after a few minutes of protection, or measure before protecting with an assessment/],
      [{ phase: 'MeetingSLA' }, {}, /no sizing yet: no change rate measured yet; come back/],
      [{}, { mode: 'Assess' }, /no sizing yet: its assessment has not measured a change rate yet/],
    ] as const) {
      const c = capture(fakeClient({ vpgs: [{ ...vpg('web', 'acme', status), spec }] }));
      await assert.rejects(sizingCommand.prepare(['web'], flagsOf({}))(c.ctx), (err: unknown) => err instanceof CommandError && message.test(err.message));
    }
  });
});

describe('kubectl zcsp sizing --zorg', () => {
  const zorg = (status: Record<string, unknown>): Record<string, unknown> => ({ metadata: { name: 'acme' }, spec: { namespaces: ['acme', 'acme-dr', 'acme-secret'] }, status });
  const vpgs = [vpg('web', 'acme', { sizing: measured }), vpg('db', 'acme', { phase: 'Initializing' }), vpg('logs', 'acme-dr', { sizing: measured })];

  it('prints the Zorg\'s totals and a line per VPG it may read, skipping forbidden namespaces with a note', async () => {
    const totals = total([measured, measured, measured]);
    const c = capture(fakeClient({ zorg: zorg({ sizing: totals }), vpgs, forbidden: ['acme-secret'] }));
    assert.equal(await sizingCommand.prepare([], flagsOf({ zorg: 'acme' }))(c.ctx), 0);
    assert.match(c.out(), /^Zorg: +acme$/m);
    assert.match(c.out(), /^Totals: +the Zorg's status \(every VPG of the Zorg\)$/m);
    assert.match(c.out(), /^VPGs: +3 with figures; none over its journal hard limit$/m);
    assert.match(c.out(), /^Protected: +3 TB/m);
    assert.match(c.out(), /^NAMESPACE +NAME +PROTECTED +CHANGE\/DAY +JOURNAL +RECOVERY SITE +TEST +FAILBACK +WAN AVG +WAN RPO +MEASURED$/m);
    assert.match(c.out(), /^acme +web +1 TB +5% +25 GB +1\.03 TB +2 TB +- +2\.32 Mbit\/s +2\.32 Mbit\/s +3d$/m);
    assert.match(c.out(), /^acme +db +- +- .* not yet$/m);
    assert.match(c.out(), /^acme-dr +logs +1 TB/m);
    assert.equal(c.err(), 'skipped namespace acme-secret: you may not list its VPGs\n');
  });

  it('sums the VPGs it can read when the Zorg has no totals yet, and says so', async () => {
    const c = capture(fakeClient({ zorg: zorg({}), vpgs }), true);
    await sizingCommand.prepare([], flagsOf({ zorg: 'acme' }))(c.ctx);
    const data = JSON.parse(c.out()) as { totalsFrom: string; sizing: { vpgs: number; protectedBytes: number }; vpgs: unknown[]; skippedNamespaces: string[] };
    assert.equal(data.totalsFrom, 'VPGs listed');
    // web and logs have figures (1 TB each); db has none yet.
    assert.equal(data.sizing.vpgs, 2);
    assert.equal(data.sizing.protectedBytes, 2e12);
    assert.equal(data.vpgs.length, 3);
    assert.deepEqual(data.skippedNamespaces, []);
  });

  it('names a Zorg that does not exist', async () => {
    const c = capture(fakeClient({}));
    await assert.rejects(sizingCommand.prepare([], flagsOf({ zorg: 'nobody' }))(c.ctx), (err: unknown) => err instanceof CommandError && err.message === 'no Zorg nobody');
  });
});
