import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { crdFor, defineKind, type Kind } from './crd.ts';
import { KINDS } from './kinds.ts';
import { REFERENCE_FILE, renderReference } from './reference.ts';
import { withRules } from './rules.ts';

type Node = Record<string, unknown>;

const asNode = (v: unknown): Node | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Node : undefined);

function rootSchema(kind: Kind): Node {
  const versions = asNode(crdFor(kind)['spec'])?.['versions'];
  const schema = Array.isArray(versions) ? asNode(asNode(asNode(versions[0])?.['schema'])?.['openAPIV3Schema']) : undefined;
  assert.ok(schema, `${kind.kind}: no schema in its CRD`);
  return schema;
}

function printerColumns(kind: Kind): Node[] {
  const versions = asNode(crdFor(kind)['spec'])?.['versions'];
  const columns = Array.isArray(versions) ? asNode(versions[0])?.['additionalPrinterColumns'] : undefined;
  return Array.isArray(columns) ? columns.map((c) => asNode(c) ?? {}) : [];
}

interface Walked {
  path: string;
  node: Node;
  /** Listed in its parent's `required`. */
  required: boolean;
}

/** Every schema node below the root with the path the reference names it by: `x[]` is each item of list x. */
function nodes(node: Node, path = ''): Walked[] {
  const required = Array.isArray(node['required']) ? node['required'] : [];
  const below = Object.entries(asNode(node['properties']) ?? {}).map(([name, child]) =>
    ({ path: path === '' ? name : `${path}.${name}`, node: asNode(child) ?? {}, required: required.includes(name) }));
  const items = asNode(node['items']);
  if (items !== undefined) below.push({ path: `${path}[]`, node: items, required: false });
  return below.flatMap((w) => [w, ...nodes(w.node, w.path)]);
}

/** The fields: list items are not fields of their own. */
const walk = (root: Node): Walked[] => nodes(root).filter((w) => !w.path.endsWith('[]'));

/** The kind's part of the page: from its `## Kind` heading to the next. */
function section(markdown: string, kind: string): string {
  const part = markdown.split(/^## /m).find((s) => s.startsWith(`${kind}\n`));
  assert.ok(part !== undefined, `no section for ${kind}`);
  return part;
}

/** GFM's cells: split on pipes not escaped. */
const cells = (line: string): string[] => line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());

/** Field path → its row's cells, for the field tables of a section. */
function rows(part: string): Map<string, string[]> {
  const byPath = new Map<string, string[]>();
  for (const line of part.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| ---'))) {
    const c = cells(line);
    const path = /^\[?`([^`]+)`/.exec(c[0] ?? '')?.[1];
    if (path !== undefined && c.length === 4) byPath.set(path, c);
  }
  return byPath;
}

/** What a reader sees of markdown escapes (and of escaped pipes in tables). */
const unescape = (s: string): string => s.replace(/\\([!-/:-@[-`{-~])/g, '$1');

const rendered = renderReference();

describe('the API reference (docs/api-reference.md)', () => {
  it('matches the committed page (run `npm run gen` after changing a schema)', async () => {
    assert.equal(await readFile(REFERENCE_FILE, 'utf8'), rendered, 'docs/api-reference.md is stale: run `npm run gen`');
  });

  it('is deterministic', () => {
    assert.equal(renderReference(), rendered);
  });

  it('lists every field of every kind, leaves included, by its full path under that kind', () => {
    for (const kind of KINDS) {
      const table = rows(section(rendered, kind.kind));
      const fields = walk(rootSchema(kind));
      assert.ok(fields.some((f) => f.path.includes('.')), `${kind.kind}: nested fields were walked`);
      for (const f of fields) assert.ok(table.has(f.path), `${kind.kind}: ${f.path} is not in the reference`);
    }
  });

  it('gives each field its description, type and whether it is required', () => {
    for (const kind of KINDS) {
      const table = rows(section(rendered, kind.kind));
      for (const f of walk(rootSchema(kind)).filter((w) => /^(spec|status)\./.test(w.path))) {
        const [, type, required, details] = table.get(f.path) ?? [];
        assert.equal(required, f.required ? 'required' : 'optional', `${kind.kind}: ${f.path}`);
        assert.ok(unescape(details ?? '').includes(String(f.node['description'])), `${kind.kind}: ${f.path} lacks its description`);
        const plain = ['string', 'integer', 'boolean'].includes(String(f.node['type'])) && !('format' in f.node);
        if (plain) assert.equal(type, f.node['type'], `${kind.kind}: ${f.path}`);
        if (f.node['type'] === 'array') assert.match(type ?? '', /^array of /, `${kind.kind}: ${f.path}`);
      }
    }
  });

  it('shows defaults, allowed values and bounds where the schema sets them', () => {
    const seen = { default: 0, enum: 0, range: 0, length: 0, items: 0, pattern: 0 };
    for (const kind of KINDS) {
      const table = rows(section(rendered, kind.kind));
      for (const { path, node } of walk(rootSchema(kind))) {
        const details = table.get(path)?.[3] ?? '';
        const shown = (what: string): void => assert.ok(details.includes(what), `${kind.kind}: ${path} should show ${what}`);
        if ('default' in node) {
          const v = node['default'];
          shown(`**Default:** \`${typeof v === 'string' ? v : JSON.stringify(v)}\``);
          seen.default++;
        }
        if (Array.isArray(node['enum'])) {
          for (const v of node['enum']) shown(`\`${String(v)}\``);
          seen.enum++;
        }
        if (typeof node['minimum'] === 'number' && typeof node['maximum'] === 'number') {
          shown(`**Range:** ${node['minimum']} to ${node['maximum']}`);
          seen.range++;
        }
        if (typeof node['maxLength'] === 'number') {
          shown(`${node['maxLength']}`);
          assert.match(details, /\*\*Length:\*\*/, `${kind.kind}: ${path}`);
          seen.length++;
        }
        if (typeof node['maxItems'] === 'number') {
          assert.match(details, new RegExp(`\\*\\*Items:\\*\\* [^·]*\\b${node['maxItems']}\\b`), `${kind.kind}: ${path}`);
          seen.items++;
        }
        // Patterns the type names (quantity, date-time) are left out; any other is shown as written.
        const pattern = node['pattern'];
        if (typeof pattern === 'string' && node['x-kubernetes-int-or-string'] !== true && node['format'] !== 'date-time') {
          shown(`**Pattern:** \`${pattern.replaceAll('|', '\\|')}\``);
          seen.pattern++;
        }
      }
    }
    for (const [what, count] of Object.entries(seen)) assert.ok(count > 0, `no field with ${what} was checked`);
  });

  it('shows each CEL rule\'s message on the field it reports, with where it is declared', () => {
    let checked = 0;
    for (const kind of KINDS) {
      const table = rows(section(rendered, kind.kind));
      for (const { path, node } of nodes(rootSchema(kind))) {
        const rules = node['x-kubernetes-validations'];
        if (!Array.isArray(rules)) continue;
        for (const rule of rules.map((r) => asNode(r) ?? {})) {
          const fieldPath = typeof rule['fieldPath'] === 'string' ? rule['fieldPath'] : '';
          const target = `${path}${fieldPath}`.replace(/(\[\])+$/, '');
          const details = unescape(table.get(target)?.[3] ?? '');
          const label = rule['rule'] === 'self == oldSelf' ? 'Immutable' : String(rule['rule']).includes('oldSelf') ? 'On update' : 'Rule';
          assert.ok(details.includes(`**${label}:** ${String(rule['message'])}`), `${kind.kind}: ${target} lacks "${String(rule['message'])}"`);
          if (target !== path) assert.ok(details.includes(`(checked on \`${path}\`)`), `${kind.kind}: ${target} should say the rule is on ${path}`);
          checked++;
        }
      }
    }
    assert.ok(checked > 0);
  });

  it('lists each kind\'s printer columns, names and scope', () => {
    for (const kind of KINDS) {
      const part = section(rendered, kind.kind);
      for (const column of printerColumns(kind)) {
        assert.ok(part.includes(`| ${String(column['name'])} | ${String(column['type'])} | \`${String(column['jsonPath'])}\` |`), `${kind.kind}: column ${String(column['name'])}`);
      }
      assert.ok(part.includes(`**Scope:** ${kind.scope}`));
      for (const name of [kind.plural, kind.singular, ...kind.shortNames]) assert.ok(part.includes(`\`${name}\``), `${kind.kind}: name ${name}`);
    }
  });

  it('has tables GFM reads as written, and links that lead somewhere on the page', () => {
    const lines = rendered.split('\n');
    let width: number | undefined;
    for (const line of lines) {
      if (!line.startsWith('|')) {
        width = undefined;
        continue;
      }
      width ??= cells(line).length;
      assert.equal(cells(line).length, width, `a cell has an unescaped pipe: ${line}`);
    }
    const anchors = new Set([
      ...[...rendered.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]),
      ...lines.filter((l) => l.startsWith('#')).map((l) => l.replace(/^#+ /, '').toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replaceAll(' ', '-')),
    ]);
    const links = [...rendered.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]);
    assert.ok(links.length > 0);
    for (const link of links) assert.ok(anchors.has(link), `no anchor for #${link ?? ''}`);
  });

  it('escapes what markdown would act on in descriptions, patterns and messages', () => {
    const odd = defineKind({
      kind: 'Odd', plural: 'odds', singular: 'odd', shortNames: [], scope: 'Cluster',
      description: 'An <odd> kind | with *stars* and a `code|span`.',
      spec: withRules(z.strictObject({
        choice: z.string().max(8).regex(/^(a|b)$/).describe('Either a | b, in <brackets>.'),
      }), [{ cel: "self.choice != 'b'", message: 'not b | ever', field: ['choice'], check: (s) => s.choice !== 'b' }]).describe('Spec.'),
      status: z.strictObject({}).describe('Status.'),
      printerColumns: [],
    });
    const page = renderReference([odd]);
    assert.match(page, /An \\<odd\\> kind \| with \\\*stars\\\* and a `code\|span`\./);
    const row = page.split('\n').find((l) => l.startsWith('| `spec.choice`'));
    assert.ok(row !== undefined);
    assert.equal(cells(row).length, 4, row);
    assert.ok(row.includes('`^(a\\|b)$`'), row);
    assert.ok(unescape(row).includes('Either a | b, in <brackets>.'), row);
    assert.ok(unescape(row).includes('**Rule:** not b | ever (checked on `spec`)'), row);
  });

  it('refuses a schema keyword it would not show rather than leave it out', () => {
    const loose = defineKind({
      kind: 'Loose', plural: 'looses', singular: 'loose', shortNames: [], scope: 'Cluster', description: 'Loose.',
      spec: z.strictObject({
        anything: z.strictObject({}).meta({ 'x-kubernetes-preserve-unknown-fields': true }).describe('Anything.'),
      }).describe('Spec.'),
      status: z.strictObject({}).describe('Status.'),
      printerColumns: [],
    });
    assert.throws(() => renderReference([loose]), /spec\.anything: the API reference does not show "x-kubernetes-preserve-unknown-fields"/);
  });
});
