import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { VPGStatus } from '../../src/crds/vpg.ts';
import { conditionTypes } from './condition-types.ts';
import { TROUBLESHOOTING_DOC, codeName, parseMarkdown, type Markdown } from './markdown.ts';
import { KINDS, SCANNED, TEMPLATE_EXPANSIONS, extractReasons, reasonsByKind, type Kind } from './reasons.ts';
import { Source, readSources } from './source-scan.ts';

const reasonsIn = (src: string, expansions?: ReadonlyMap<string, readonly string[]>) =>
  extractReasons([new Source('src/controllers/vpg/x.ts', src)], expansions);
const found = (src: string): string[] => [...new Set(reasonsIn(src).found.map((f) => f.reason))].sort();

describe('the reason extractor', () => {
  it('finds reasons in conditions, Events and blockers: literals, ternaries, constants and maps', () => {
    assert.deepEqual(found(`
      const c = { type: 'Ready', status: 'False', reason: 'ClaimNotFound', message: 'm' };
      ctx.event(obj, { type: 'Normal', reason: kind === 'Move' ? 'MoveStarted' : 'FailoverStarted', action: kind, note: 'n' });
      const fallback = level === 'error' ? 'LevelError' : 'LevelWarning';
      blockers.push({ reason: fallback, message: 'm' });
      const REASONS = { gone: 'NodeGone', full: 'DiskFull' } as const;
      events.push({ type: 'Warning', reason: REASONS[why], note: 'n' });
      events.push({ type: 'Warning', reason: REASONS.gone, note: 'n' });
      const reason = err instanceof TerminalError ? err.reason : 'InvalidSpec';
      ctx.event(obj, { type: 'Warning', reason, action: 'Reconcile', note: err.message });
      return { blocker: { reason: x ?? 'Fallback', message: 'm' } };
    `), ['ClaimNotFound', 'DiskFull', 'FailoverStarted', 'Fallback', 'InvalidSpec', 'LevelError', 'LevelWarning', 'MoveStarted', 'NodeGone']);
  });

  it('finds the first argument of helpers and classes that take a reason and a message', () => {
    assert.deepEqual(found(`
      const ok = (reason: string, message: string): Verdict => ({ status: 'True', reason, message });
      function bad(reason: string, note: string) { return { reason, note }; }
      class Stop extends Error { constructor(reason: string, message: string) { super(message); } }
      ok('Available', 'fine');
      bad(ready ? 'NotReady' : 'Gone', 'why');
      throw new Stop('RemoteNotSupported', 'no');
      other('NotAReason', 'x');
    `), ['Available', 'Gone', 'NotReady', 'RemoteNotSupported']);
  });

  it('skips comparisons, conditions of ternaries, objects without a message, reads of .reason and comments', () => {
    assert.deepEqual(found(`
      if (action.reason === 'Finished') stop();
      const plan = { kind: 'delete', reason: 'NotOwned', why: 'w' };
      const r = { state: 'failed', reason: 'the pod failed' };
      const t = { type: mode === 'Strict' ? 'Warning' : 'Normal', reason: 'Real', note: 'n' };
      // ctx.event(obj, { reason: 'Commented', note: 'n' });
      const s = "{ reason: 'InAString', note: 'n' }";
      events.push({ type: 'Warning', reason: c.reason, note: c.message });
    `), ['Real']);
  });

  it('expands templates whose parts are constants, takes the listed expansions, and reports the rest', () => {
    const r = reasonsIn(`
      const level = big ? 'Error' : 'Warning';
      ok(\`Rpo\${level}\`, 'm');
      ok(\`\${syncType}Sync\`, 'm');
      ok(\`\${unknown}Thing\`, 'm');
      const ok = (reason: string, message: string) => ({ reason, message });
    `, new Map([['`${syncType}Sync`', ['InitialSync']]]));
    assert.deepEqual([...new Set(r.found.map((f) => f.reason))].sort(), ['InitialSync', 'RpoError', 'RpoWarning']);
    assert.deepEqual(r.unknownTemplates.map((t) => t.reason), ['`${unknown}Thing`']);
    assert.deepEqual([...r.usedTemplates], ['`${syncType}Sync`']);
  });
});

interface DocReasons {
  byKind: Map<Kind, Map<string, number>>;
  problems: string[];
}

/** The reasons each kind's section documents: the first cell of every row of its "reason" tables. */
function documentedReasons(md: Markdown): DocReasons {
  const byKind = new Map<Kind, Map<string, number>>(KINDS.map((k) => [k, new Map()]));
  const problems: string[] = [];
  for (const t of md.tables) {
    if (t.header[0] !== 'reason') continue;
    const kind = KINDS.find((k) => k === t.h2);
    if (kind === undefined) {
      problems.push(`line ${t.line}: a reason table outside a kind's section (${t.h2 ?? 'none'})`);
      continue;
    }
    t.rows.forEach((row, i) => {
      const name = codeName(row[0]);
      if (name !== undefined) byKind.get(kind)?.set(name, t.line + 2 + i);
      // A row that names no single reason must not hide one either.
      else if (row[0]?.includes('`') === true) problems.push(`line ${t.line + 2 + i}: "${row[0]}" is not one reason in code font`);
    });
  }
  return { byKind, problems };
}

describe('docs/troubleshooting.md', async () => {
  const md = parseMarkdown(await readFile(TROUBLESHOOTING_DOC, 'utf8'));
  const { byKind: code, unassigned, extraction } = await reasonsByKind();
  const doc = documentedReasons(md);

  it('has a section per kind, and reason tables only inside them', () => {
    for (const kind of KINDS) assert.ok(md.headings.some((h) => h.level === 2 && h.text === kind), `a "## ${kind}" section`);
    assert.deepEqual(doc.problems, []);
  });

  it('documents every reason each kind\'s controller sets, under that kind', () => {
    const missing = KINDS.flatMap((kind) => [...(code.get(kind) ?? [])]
      .filter(([reason]) => doc.byKind.get(kind)?.has(reason) !== true)
      .map(([reason, where]) => `${kind}: ${reason} (set at ${where.map((w) => `${w.file}:${w.line}`).join(', ')})`));
    assert.deepEqual(missing, [], 'reasons the code sets that docs/troubleshooting.md does not explain');
  });

  it('documents no reason the code does not set', () => {
    const stale = KINDS.flatMap((kind) => [...(doc.byKind.get(kind) ?? [])]
      .filter(([reason]) => code.get(kind)?.has(reason) !== true)
      .map(([reason, line]) => `${kind}: ${reason} (docs/troubleshooting.md:${line})`));
    assert.deepEqual(stale, [], 'reasons in docs/troubleshooting.md that the code never sets');
  });

  it('knows the values of every composed reason, and lists no expansion the code no longer uses', () => {
    assert.deepEqual(extraction.unknownTemplates.map((t) => `${t.reason} at ${t.file}:${t.line}`), [],
      'composed reasons: add their values to TEMPLATE_EXPANSIONS in tools/docs/reasons.ts, then document them');
    assert.deepEqual([...TEMPLATE_EXPANSIONS.keys()].filter((t) => !extraction.usedTemplates.has(t)), []);
  });

  it('has a section per condition type of each kind, each with its reasons', () => {
    for (const [kind, types] of conditionTypes()) {
      const section = md.headings.findIndex((h) => h.level === 2 && h.text === kind);
      const end = md.headings.findIndex((h, i) => i > section && h.level <= 2);
      const h3 = md.headings.slice(section + 1, end < 0 ? undefined : end).filter((h) => h.level === 3 && h.text !== 'Events').map((h) => h.text);
      assert.deepEqual([...h3].sort(), [...types].sort(), `the condition types of ${kind}`);
      for (const type of types) assert.ok(md.tables.some((t) => t.h2 === kind && t.h3 === type && t.header[0] === 'reason'), `a reason table for ${kind} ${type}`);
    }
  });

  it('lists every VPG phase and substatus of the API', () => {
    const firstCells = (header: string): string[] => md.tables.filter((t) => t.header[0] === header).flatMap((t) => t.rows.map((r) => codeName(r[0]) ?? r[0] ?? ''));
    assert.deepEqual(firstCells('phase').sort(), [...VPGStatus.shape.phase.unwrap().options].sort());
    assert.deepEqual(firstCells('substatus').sort(), [...VPGStatus.shape.substatus.unwrap().options].sort());
  });

  it('can place every reason under a kind', () => {
    assert.deepEqual(unassigned.map((f) => `${f.reason} at ${f.file}:${f.line}`), [],
      'reasons set outside the folders of tools/docs/reasons.ts FOLDERS: say there which kind they belong to');
  });

  it('covers every place that builds conditions or Events: nothing outside the scanned folders does', async () => {
    const builders = /\bsetStatusCondition\s*\(|\.event\s*\(|\bcreate\s*\(\s*EVENTS\b|\bnew\s+EventRecorder\b/g;
    const outside = (await readSources('src'))
      .filter((s) => !SCANNED.some((dir) => s.path.startsWith(`${dir}/`)))
      .flatMap((s) => s.matches(builders).map((m) => `${s.path}: ${m[0]}`));
    assert.deepEqual(outside, [], 'conditions or Events built outside the folders tools/docs/reasons.ts scans: add the folder to SCANNED and FOLDERS');
  });
});
