// The condition and Event reasons the code can set, read from the sources (see source-scan.ts),
// by the kind whose controller sets them. A reason is found where it is written:
//   - `reason: X` (or the shorthand `reason`) in an object that also has a `message` or `note`:
//     conditions, Events, blockers;
//   - the first argument of a helper declared `(reason: string, message|note: string)` (ok, no,
//     warn…) and of a class constructed that way (new TerminalError(…));
// where X is a literal, a constant, an entry of a constant map, a ternary or ?? of those, or a
// template whose substitutions are such constants. Templates that need the running code to tell
// their values are listed in TEMPLATE_EXPANSIONS; one not listed there is reported, so a new
// composed reason cannot slip past the docs.
import { VPGStatus } from '../../src/crds/vpg.ts';
import { readSources, type Source, type Values } from './source-scan.ts';

export const KINDS = ['Any kind', 'Zorg', 'ServiceProfile', 'Site', 'ZCC', 'VPG'] as const;
export type Kind = (typeof KINDS)[number];

/** Where conditions and Events are built: the controllers, and the runtime's terminal-error handling. */
export const FOLDERS: readonly (readonly [string, Kind])[] = [
  ['src/runtime/', 'Any kind'],
  ['src/controllers/zorg/', 'Zorg'],
  ['src/controllers/service-profile/', 'ServiceProfile'],
  ['src/controllers/site/', 'Site'],
  ['src/controllers/zcc/', 'ZCC'],
  ['src/controllers/vpg/', 'VPG'],
];

const SYNC_TYPES = VPGStatus.shape.sync.unwrap().shape.type.options;

/**
 * Composed reasons whose parts are parameters, by the template's source text.
 * `${type}${result}`: the end of a failover or move (operation/failover.ts); a failover test ends
 * with TestStopped instead, and Stopped is only a test's result.
 */
export const TEMPLATE_EXPANSIONS: ReadonlyMap<string, readonly string[]> = new Map([
  ['`${syncType}Sync`', SYNC_TYPES.map((t) => `${t}Sync`)],
  ['`${type}${result}`', ['Failover', 'Move'].flatMap((t) => ['Succeeded', 'RolledBack', 'Failed'].map((r) => `${t}${r}`))],
]);

export interface Found {
  reason: string;
  file: string;
  line: number;
}

export interface Extraction {
  found: Found[];
  /** Composed reasons the sources alone cannot tell, and TEMPLATE_EXPANSIONS does not list. */
  unknownTemplates: Found[];
  /** Expansions used, by template: one that no source uses any more is stale. */
  usedTemplates: Set<string>;
}

const lineOf = (s: Source, pos: number): number => s.text.slice(0, pos).split('\n').length;

/** The names of the helpers and classes that take a reason first, then a message or note. */
function reasonTakers(sources: readonly Source[]): { functions: Map<Source, Set<string>>; classes: Set<string> } {
  const functions = new Map<Source, Set<string>>();
  const classes = new Set<string>();
  const first = String.raw`\(\s*reason\s*:\s*string\s*,\s*(?:message|note)\b`;
  for (const s of sources) {
    const names = new Set<string>();
    for (const m of s.matches(new RegExp(String.raw`\b(?:const|let)\s+([A-Za-z_$][\w$]*)\s*=\s*` + first, 'g'))) if (m[1] !== undefined) names.add(m[1]);
    for (const m of s.matches(new RegExp(String.raw`\bfunction\s+([A-Za-z_$][\w$]*)\s*` + first, 'g'))) if (m[1] !== undefined) names.add(m[1]);
    functions.set(s, names);
    for (const m of s.matches(new RegExp(String.raw`\bconstructor\s*` + first, 'g'))) {
      const cls = [...s.text.slice(0, m.index).matchAll(/\bclass\s+([A-Za-z_$][\w$]*)/g)].pop()?.[1];
      if (cls !== undefined) classes.add(cls);
    }
  }
  return { functions, classes };
}

export function extractReasons(sources: readonly Source[], expansions: ReadonlyMap<string, readonly string[]> = TEMPLATE_EXPANSIONS): Extraction {
  const out: Extraction = { found: [], unknownTemplates: [], usedTemplates: new Set() };
  const record = (s: Source, pos: number, v: Values): void => {
    const line = lineOf(s, pos);
    for (const reason of v.literals) out.found.push({ reason, file: s.path, line });
    for (const t of v.templates) {
      const known = expansions.get(t);
      if (known === undefined) {
        out.unknownTemplates.push({ reason: t, file: s.path, line });
        continue;
      }
      out.usedTemplates.add(t);
      for (const reason of known) out.found.push({ reason, file: s.path, line });
    }
  };
  const firstArgument = (s: Source, open: number): void => {
    const start = open + 1;
    record(s, start, s.values(start, s.expressionEnd(start, ',)')));
  };
  const takers = reasonTakers(sources);

  for (const s of sources) {
    // reason: X, or the shorthand, in an object with a message or a note.
    for (const m of s.matches(/\breason\b/g)) {
      const before = s.previousCode(m.index);
      if (s.text[before] === '.') continue;
      const after = s.skipSpace(m.index + m[0].length);
      if (!':,}'.includes(s.text[after] ?? '') || !s.isCode(after)) continue;
      const brace = s.enclosingBrace(m.index);
      if (brace === undefined) continue;
      const entries = s.entries(brace[0], brace[1]);
      const entry = entries.find((e) => e.key === 'reason' && (e.shorthand ? e.start === m.index : e.start > m.index && e.start <= after + 1));
      if (entry === undefined || !entries.some((e) => e.key === 'message' || e.key === 'note')) continue;
      record(s, m.index, entry.shorthand ? s.constValues('reason') : s.values(entry.start, entry.end));
    }
    for (const name of takers.functions.get(s) ?? []) {
      for (const m of s.matches(new RegExp(String.raw`(?<![.\w$])${name.replace(/\$/g, '\\$')}\s*\(`, 'g'))) firstArgument(s, m.index + m[0].length - 1);
    }
    for (const cls of takers.classes) {
      for (const m of s.matches(new RegExp(String.raw`\bnew\s+${cls}\s*\(`, 'g'))) firstArgument(s, m.index + m[0].length - 1);
    }
  }
  return out;
}

export function kindOf(file: string): Kind | undefined {
  return FOLDERS.find(([folder]) => file.startsWith(folder))?.[1];
}

/** What is scanned: FOLDERS, and whatever else lies beside them (shared helpers). */
export const SCANNED = ['src/controllers', 'src/runtime'] as const;

/**
 * Every reason the controllers can set, by kind; `unassigned`: reasons in scanned files of no
 * kind's folder (a helper shared by kinds), which the docs cannot place.
 */
export async function reasonsByKind(): Promise<{ byKind: Map<Kind, Map<string, Found[]>>; unassigned: Found[]; extraction: Extraction }> {
  const sources = (await Promise.all(SCANNED.map((dir) => readSources(dir)))).flat();
  const extraction = extractReasons(sources);
  const byKind = new Map<Kind, Map<string, Found[]>>(KINDS.map((k) => [k, new Map()]));
  const unassigned: Found[] = [];
  for (const f of extraction.found) {
    const kind = kindOf(f.file);
    if (kind === undefined) {
      unassigned.push(f);
      continue;
    }
    const reasons = byKind.get(kind);
    reasons?.set(f.reason, [...(reasons.get(f.reason) ?? []), f]);
  }
  return { byKind, unassigned, extraction };
}

if (import.meta.main) {
  // For writing the docs: every reason, by kind, with where it is set.
  const { byKind, unassigned, extraction } = await reasonsByKind();
  for (const [kind, reasons] of byKind) {
    process.stdout.write(`${kind}\n`);
    for (const [reason, where] of [...reasons].sort(([a], [b]) => a.localeCompare(b))) {
      process.stdout.write(`  ${reason.padEnd(30)} ${[...new Set(where.map((w) => `${w.file}:${w.line}`))].join(' ')}\n`);
    }
  }
  for (const t of extraction.unknownTemplates) process.stdout.write(`unknown template ${t.reason} at ${t.file}:${t.line}\n`);
  for (const f of unassigned) process.stdout.write(`no kind: ${f.reason} at ${f.file}:${f.line}\n`);
}
