// Part of `npm run gen`: docs/api-reference.md, the reference of the zcsp.io API. It walks the
// CustomResourceDefinitions the zod schemas make, not the zod schemas themselves, so the page says
// what the API server enforces; a schema keyword it does not know how to show stops the
// generation instead of silently going missing from the page.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { timestamp } from './common.ts';
import { crdFor, type Kind } from './crd.ts';
import { KINDS } from './kinds.ts';
import { toOpenApi } from './openapi.ts';
import { QUANTITY_PATTERN } from './quantity.ts';

export const REFERENCE_FILE = fileURLToPath(new URL('../../docs/api-reference.md', import.meta.url));

type Node = Record<string, unknown>;

const WIDTH = 100;

/** Keywords shown on the page (or in the structure of its tables); any other fails the generation. */
const SHOWN = new Set([
  'description', 'type', 'format', 'properties', 'required', 'items', 'additionalProperties', 'default', 'enum',
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength', 'minItems', 'maxItems',
  'minProperties', 'maxProperties', 'pattern', 'anyOf', 'x-kubernetes-int-or-string', 'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys', 'x-kubernetes-validations',
]);

/** Kubernetes requires these of every object, though a CRD's schema does not say so. */
const ENVELOPE = new Set(['apiVersion', 'kind', 'metadata']);
/** The API server's own ObjectMeta: a CRD's schema leaves it untyped and undescribed. */
const OBJECT_META = 'Standard object metadata (name, namespace for a namespaced kind, labels, annotations), as every Kubernetes object has.';

const CrdView = z.object({
  spec: z.object({
    group: z.string(),
    names: z.object({
      kind: z.string(),
      listKind: z.string(),
      plural: z.string(),
      singular: z.string(),
      shortNames: z.array(z.string()).default([]),
      categories: z.array(z.string()).default([]),
    }),
    scope: z.string(),
    // One version: a second would need the page to say which fields belong to which.
    versions: z.tuple([z.object({
      name: z.string(),
      schema: z.object({ openAPIV3Schema: z.record(z.string(), z.unknown()) }),
      additionalPrinterColumns: z.array(z.object({
        name: z.string(), type: z.string(), jsonPath: z.string(), description: z.string().default(''), priority: z.int().default(0),
      })).default([]),
      selectableFields: z.array(z.object({ jsonPath: z.string() })).default([]),
    })]),
  }),
});
type CrdView = z.output<typeof CrdView>;

const CelRules = z.array(z.object({ rule: z.string(), message: z.string(), fieldPath: z.string().optional() }));

interface Field {
  path: string;
  node: Node;
  required: boolean;
}

interface PlacedRule {
  label: 'Rule' | 'Immutable' | 'On update';
  message: string;
  /** The object the rule is declared on, when that is not the field it reports. */
  checkedOn?: string;
}

const asNode = (v: unknown): Node | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Node : undefined);
const join = (path: string, name: string): string => (path === '' ? name : `${path}.${name}`);
const description = (node: Node): string => (typeof node['description'] === 'string' ? node['description'] : '');

/** The fields one level down; a list's and a map's are those of its items and values. */
function children(node: Node, path: string): Field[] {
  const properties = asNode(node['properties']);
  if (properties !== undefined) {
    const required = new Set(Array.isArray(node['required']) ? node['required'] : []);
    return Object.entries(properties).map(([name, child]) => {
      const childNode = asNode(child);
      if (childNode === undefined) throw new Error(`${join(path, name)}: not a schema`);
      return { path: join(path, name), node: childNode, required: required.has(name) };
    });
  }
  const items = asNode(node['items']);
  if (items !== undefined) return children(items, `${path}[]`);
  const values = asNode(node['additionalProperties']);
  if (values !== undefined) return children(values, `${path}.<key>`);
  return [];
}

/** Every field below, depth first in declaration order. */
function descendants(field: Field): Field[] {
  return children(field.node, field.path).flatMap((child) => [child, ...descendants(child)]);
}

/** Every schema node with its path, list items (`[]`) and map values (`.<key>`) included. */
function visit(node: Node, path: string, each: (node: Node, path: string) => void): void {
  each(node, path);
  for (const [name, child] of Object.entries(asNode(node['properties']) ?? {})) {
    const childNode = asNode(child);
    if (childNode !== undefined) visit(childNode, join(path, name), each);
  }
  const items = asNode(node['items']);
  if (items !== undefined) visit(items, `${path}[]`, each);
  const values = asNode(node['additionalProperties']);
  if (values !== undefined) visit(values, `${path}.<key>`, each);
}

function checkKeywords(node: Node, path: string): void {
  for (const key of Object.keys(node)) {
    if (!SHOWN.has(key)) throw new Error(`${path || '<root>'}: the API reference does not show "${key}": teach src/crds/reference.ts to`);
  }
  if ('anyOf' in node && node['x-kubernetes-int-or-string'] !== true) throw new Error(`${path}: anyOf other than int-or-string`);
}

/** The field a rule's fieldPath names, or the object it sits on when the path leaves the schema. */
function reportedAt(node: Node, path: string, fieldPath: string | undefined): string {
  if (fieldPath === undefined || !/^(\.[A-Za-z0-9_]+)+$/.test(fieldPath)) return path;
  let at = node;
  let target = path;
  for (const name of fieldPath.slice(1).split('.')) {
    const next = asNode(asNode(at['properties'])?.[name]);
    if (next === undefined) return path;
    at = next;
    target = join(target, name);
  }
  return target;
}

/** CEL rules by the row that shows them: a rule on each item of a list shows on the list. */
function placeRules(root: Node): Map<string, PlacedRule[]> {
  const placed = new Map<string, PlacedRule[]>();
  visit(root, '', (node, path) => {
    checkKeywords(node, path);
    for (const r of CelRules.parse(node['x-kubernetes-validations'] ?? [])) {
      const row = reportedAt(node, path, r.fieldPath).replace(/(\[\])+$/, '');
      const label = r.rule.trim() === 'self == oldSelf' ? 'Immutable' : r.rule.includes('oldSelf') ? 'On update' : 'Rule';
      placed.set(row, [...(placed.get(row) ?? []), { label, message: r.message, ...(path !== row && { checkedOn: path }) }]);
    }
  });
  return placed;
}

// ——— Markdown ———

/** Prose from a schema: its `code spans` kept, anything else markdown or HTML would act on escaped. */
function text(s: string): string {
  return s.split(/(`[^`\n]+`)/).map((part, i) => (i % 2 === 1 ? part : part.replace(/[\\`*_[\]<>~]/g, '\\$&'))).join('');
}

function code(s: string): string {
  const fence = '`'.repeat(Math.max(0, ...(s.match(/`+/g) ?? []).map((run) => run.length)) + 1);
  const pad = s.startsWith('`') || s.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${s}${pad}${fence}`;
}

/** A value as it would be written in YAML, unquoted when that is unambiguous. */
const literal = (v: unknown): string => code(typeof v === 'string' && v !== '' && v.trim() === v ? v : JSON.stringify(v));

/** GFM splits cells on every unescaped pipe, inside code spans too. */
const row = (cells: readonly string[]): string => `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;

const table = (header: readonly string[], rows: readonly (readonly string[])[]): string[] =>
  [row(header), row(header.map(() => '---')), ...rows.map(row)];

/** A word that would start a list, heading, quote or setext underline if a line began with it. */
const BLOCK_START = /^([-+*>]|#{1,6}|\d{1,9}[.)]|=+|-+)$/;

/** Greedy wrap at WIDTH; `first` starts the first line, `rest` the others. */
function wrap(s: string, first = '', rest = ''): string[] {
  const lines: string[] = [];
  let line = first;
  for (const word of s.split(/ +/).filter((w) => w !== '')) {
    const blank = line === first || line === rest;
    if (!blank && line.length + 1 + word.length > WIDTH && !BLOCK_START.test(word)) {
      lines.push(line);
      line = rest + word;
    } else line = blank ? line + word : `${line} ${word}`;
  }
  return [...lines, line];
}

/** GitHub's anchor for a heading. */
const slug = (heading: string): string => heading.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replaceAll(' ', '-');

// ——— Fields ———

function isQuantity(node: Node): boolean {
  return node['x-kubernetes-int-or-string'] === true && node['pattern'] === QUANTITY_PATTERN.source;
}

/** RFC 3339 spelt out as a regular expression: several hundred characters that say "date-time". */
const DATE_TIME_PATTERN = toOpenApi(timestamp('A time.'))['pattern'];

/** A pattern the type already names: a quantity's grammar, a timestamp's RFC 3339. */
const patternInType = (node: Node): boolean =>
  isQuantity(node) || (node['format'] === 'date-time' && node['pattern'] === DATE_TIME_PATTERN);

function typeName(node: Node): string {
  if (node['x-kubernetes-int-or-string'] === true) return isQuantity(node) ? 'quantity' : 'int-or-string';
  const type = typeof node['type'] === 'string' ? node['type'] : 'any';
  const items = asNode(node['items']);
  if (type === 'array' && items !== undefined) return `array of ${typeName(items)}`;
  const values = asNode(node['additionalProperties']);
  if (type === 'object' && values !== undefined) return `map of string to ${typeName(values)}`;
  return typeof node['format'] === 'string' ? `${type} (${node['format']})` : type;
}

const num = (node: Node, key: string): number | undefined => (typeof node[key] === 'number' ? node[key] : undefined);

function range(low: number | undefined, high: number | undefined, exclusive = { low: false, high: false }): string | undefined {
  const lo = low === undefined ? undefined : `${exclusive.low ? 'more than' : 'at least'} ${low}`;
  const hi = high === undefined ? undefined : `${exclusive.high ? 'less than' : 'at most'} ${high}`;
  if (low !== undefined && high !== undefined && !exclusive.low && !exclusive.high) return `${low} to ${high}`;
  return [lo, hi].filter((p) => p !== undefined).join(', ') || undefined;
}

/** What the API server holds a value to, as [label, markdown] pairs. */
function constraints(node: Node): [string, string][] {
  const out: [string, string][] = [];
  const add = (label: string, value: string | undefined): void => {
    if (value !== undefined) out.push([label, value]);
  };
  if ('default' in node) add('Default', literal(node['default']));
  if (Array.isArray(node['enum'])) add('One of', node['enum'].map(literal).join(', '));
  add('Range', range(num(node, 'minimum'), num(node, 'maximum'), { low: node['exclusiveMinimum'] === true, high: node['exclusiveMaximum'] === true }));
  add('Length', range(num(node, 'minLength'), num(node, 'maxLength')));
  add('Items', range(num(node, 'minItems'), num(node, 'maxItems')));
  add('Entries', range(num(node, 'minProperties'), num(node, 'maxProperties')));
  if (typeof node['pattern'] === 'string' && !patternInType(node)) add('Pattern', code(node['pattern']));
  const listType = node['x-kubernetes-list-type'];
  const keys = node['x-kubernetes-list-map-keys'];
  if (listType === 'set') add('List', 'a set: no duplicate items');
  if (listType === 'map' && Array.isArray(keys)) add('List', `one item per ${keys.map((k) => code(String(k))).join(' and ')}`);
  for (const [key, label] of [['items', 'Each item'], ['additionalProperties', 'Each value']] as const) {
    const inner = asNode(node[key]);
    if (inner === undefined || children(inner, '').length > 0) continue;
    add(label, constraints(inner).map(([l, v]) => `${l.toLowerCase()} ${v}`).join('; ') || undefined);
  }
  return out;
}

function details(field: Field, rules: Map<string, PlacedRule[]>): string {
  const fallback = field.path === 'metadata' ? OBJECT_META : '';
  const facts = constraints(field.node).map(([label, value]) => `**${label}:** ${value}`).join(' · ');
  // The field's own rules first, then those of the objects around it.
  const placed = rules.get(field.path) ?? [];
  const checks = [...placed.filter((r) => r.checkedOn === undefined), ...placed.filter((r) => r.checkedOn !== undefined)].map((r) =>
    `**${r.label}:** ${text(r.message)}${r.checkedOn === undefined ? '' : ` (checked on ${code(r.checkedOn)})`}`);
  return [text(description(field.node) || fallback), facts, ...checks].filter((p) => p !== '').join('<br>');
}

const FIELD_HEADER = ['Field', 'Type', 'Required', 'Description'];

function fieldRow(field: Field, rules: Map<string, PlacedRule[]>, anchor?: string): string[] {
  const name = code(field.path);
  return [anchor === undefined ? name : `[${name}](#${anchor})`, typeName(field.node), field.required ? 'required' : 'optional', details(field, rules)];
}

// ——— Page ———

const anchorOf = (kind: string, path: string): string => `${kind.toLowerCase()}.${path}`;

interface Section {
  field: Field;
  groups: Field[];
}

function sections(root: Node): Section[] {
  return children(root, '')
    .filter((f) => f.path === 'spec' || f.path === 'status')
    .map((field) => ({ field, groups: children(field.node, field.path).filter((g) => descendants(g).length > 0) }));
}

function kindPage(crd: CrdView): string[] {
  const { names, scope, group } = crd.spec;
  const [version] = crd.spec.versions;
  const root = version.schema.openAPIV3Schema;
  const rules = placeRules(root);
  const kind = names.kind;
  const out: string[] = [`## ${kind}`, '', ...wrap(text(description(root))), ''];

  out.push(`- **API version:** ${code(`${group}/${version.name}`)}`, `- **Scope:** ${scope}`);
  out.push(...wrap(`**Names:** ${code(names.singular)} (singular), ${code(names.plural)} (plural)${names.shortNames.length > 0 ? `, ${names.shortNames.map(code).join(', ')} (short)` : ''}; lists are ${code(names.listKind)}`, '- ', '  '));
  if (names.categories.length > 0) out.push(`- **Categories:** ${names.categories.map(code).join(', ')} (\`kubectl get ${names.categories[0] ?? ''}\` lists it with the others)`);
  if (version.selectableFields.length > 0) {
    out.push(...wrap(`**Field selectors:** ${version.selectableFields.map((f) => code(f.jsonPath.replace(/^\./, ''))).join(', ')} (\`kubectl get ${names.plural} --field-selector …\`)`, '- ', '  '));
  }

  out.push('', `### <a id="${anchorOf(kind, 'columns')}"></a>Printer columns`, '');
  out.push(...wrap(`What \`kubectl get ${names.plural}\` shows; \`-o wide\` adds the columns marked wide.`), '');
  out.push(...table(['Column', 'Type', 'JSONPath', 'Shown', 'Description'], version.additionalPrinterColumns.map((c) =>
    [c.name, c.type, code(c.jsonPath), c.priority === 0 ? 'always' : 'wide', text(c.description)])));

  const parts = sections(root);
  out.push('', `### <a id="${anchorOf(kind, 'fields')}"></a>Top-level fields`, '');
  out.push(...table(FIELD_HEADER, children(root, '').map((f) => {
    const withEnvelope = ENVELOPE.has(f.path) ? { ...f, required: true } : f;
    return fieldRow(withEnvelope, rules, parts.some((p) => p.field.path === f.path) ? anchorOf(kind, f.path) : undefined);
  })));

  for (const { field, groups } of parts) {
    out.push('', `### <a id="${anchorOf(kind, field.path)}"></a>${field.path}`, '', ...wrap(text(description(field.node))));
    if (field.path === 'status') out.push('', ...wrap('Written by the operator through the status subresource: read it, do not set it.'));
    out.push('', ...table(FIELD_HEADER, children(field.node, field.path).map((f) =>
      fieldRow(f, rules, groups.includes(f) ? anchorOf(kind, f.path) : undefined))));
    for (const g of groups) {
      out.push('', `#### <a id="${anchorOf(kind, g.path)}"></a>${g.path}`, '', ...wrap(text(description(g.node))), '');
      out.push(...table(FIELD_HEADER, descendants(g).map((f) => fieldRow(f, rules))));
    }
  }
  return out;
}

function contents(crds: readonly CrdView[]): string[] {
  const out = ['## Contents', '', `- [How to read it](#${slug('How to read it')})`];
  for (const crd of crds) {
    const kind = crd.spec.names.kind;
    const link = (label: string, path: string): string => `[${label}](#${anchorOf(kind, path)})`;
    out.push(`- [${kind}](#${slug(kind)})`, `  - ${link('Printer columns', 'columns')} · ${link('Top-level fields', 'fields')}`);
    for (const { field, groups } of sections(crd.spec.versions[0].schema.openAPIV3Schema)) {
      const sub = groups.map((g) => link(g.path.slice(field.path.length + 1), g.path)).join(', ');
      out.push(...wrap(`${link(field.path, field.path)}${sub === '' ? '' : `: ${sub}`}`, '  - ', '    '));
    }
  }
  return out;
}

function intro(crds: readonly CrdView[]): string[] {
  const versions = [...new Set(crds.map((c) => `${c.spec.group}/${c.spec.versions[0].name}`))];
  const kinds = crds.map((c) => code(c.spec.names.kind)).join(', ');
  const paragraphs = [
    `The API of zcsp: the kinds ${kinds} of ${versions.map(code).join(', ')}. Every field is listed with its type, default, bounds and the rules the API server checks. The page is generated from the schemas the CustomResourceDefinitions in [deploy/crds](../deploy/crds) are generated from, so it says what the API server enforces. What zcsp is and how to run it: the [README](../README.md).`,
  ];
  const howTo = [
    'Each kind starts with what it is, its scope, its names (any of them works with `kubectl get`) and the columns `kubectl get` prints; then its fields: those at the top, then `spec` and `status`, each with a section per field that has fields of its own (its name in the table links there).',
    'A field is named by its full path from the object\'s root; `[]` stands for each item of a list and `<key>` for each entry of a map. `kubectl explain` takes the same path without them, e.g. `kubectl explain vpg.spec.bootOrder.workloads`, and shows the same descriptions.',
    '**Type**: `string`, `integer`, `boolean`, `object`, `array of …`, `map of string to …`; `quantity` is a Kubernetes quantity such as `150Gi` or `500m`, written as a string or an integer; `string (date-time)` is an RFC 3339 time with a time zone offset, e.g. `2026-01-02T15:04:05Z`.',
    '**Required**: a required field must be set whenever the object that contains it is.',
    '**Default**: what the API server fills in when the field is left out and the object that contains it is there, set or filled in by a default of its own.',
    '**Range**, **Length**, **Items**, **Entries** and **Pattern** bound a value, a string\'s length, a list\'s and a map\'s sizes, and a string\'s form (a regular expression). **List**: how items are told apart, which is also how server-side apply merges them.',
    '**Rule**: a check across fields, with the message a refused request shows; "checked on" names the object the rule is declared on when that is not the field itself. **Immutable** and **On update** rules compare with the stored object, so they apply to updates only.',
  ];
  return [
    ...paragraphs.flatMap((p) => [...wrap(p), '']),
    ...contents(crds), '',
    '## How to read it', '',
    ...howTo.flatMap((p) => wrap(p, '- ', '  ')),
  ];
}

/** The markdown reference of the kinds' CRDs: the same kinds give the same bytes. */
export function renderReference(kinds: readonly Kind[] = KINDS): string {
  const crds = kinds.map((kind) => CrdView.parse(crdFor(kind)));
  const versions = [...new Set(crds.map((c) => `${c.spec.group}/${c.spec.versions[0].name}`))];
  const lines = [
    `# API reference: ${versions.join(', ')}`,
    '',
    '<!-- Generated by `npm run gen` from the zod schemas in src/crds. Do not edit: change the schema and run it again. -->',
    '',
    ...intro(crds),
    ...crds.flatMap((crd) => ['', ...kindPage(crd)]),
  ];
  return `${lines.join('\n')}\n`;
}

export async function writeReference(file: string = REFERENCE_FILE): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, renderReference());
}

if (import.meta.main) {
  await writeReference();
  process.stdout.write(`wrote ${REFERENCE_FILE}\n`);
}
