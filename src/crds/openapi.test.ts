import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { crdFor, type PrinterColumn } from './crd.ts';
import { KINDS } from './kinds.ts';
import { SchemaError, toOpenApi, type OpenApiSchema } from './openapi.ts';

type Node = OpenApiSchema & { properties?: Record<string, Node>; items?: Node; additionalProperties?: Node | boolean; required?: string[] };

/** Every schema node under a root, with its path. */
function* nodes(node: Node, path: string): Generator<[string, Node]> {
  yield [path, node];
  for (const [name, child] of Object.entries(node.properties ?? {})) yield* nodes(child, `${path}.${name}`);
  if (node.items !== undefined) yield* nodes(node.items, `${path}[]`);
  if (typeof node.additionalProperties === 'object') yield* nodes(node.additionalProperties, `${path}.*`);
}

/** The schema node a simple JSONPath (.a.b) leads to. */
function resolve(root: Node, jsonPath: string): Node | undefined {
  let node: Node | undefined = root;
  for (const part of jsonPath.split('.').slice(1)) node = node?.properties?.[part];
  return node;
}

const versionOf = (crd: OpenApiSchema) => ((crd['spec'] as { versions: OpenApiSchema[] }).versions[0] ?? {}) as {
  schema: { openAPIV3Schema: Node };
  additionalPrinterColumns: PrinterColumn[];
  selectableFields?: { jsonPath: string }[];
};

describe('the generated CRD schemas', () => {
  for (const kind of KINDS) {
    const version = versionOf(crdFor(kind));
    const root = version.schema.openAPIV3Schema;

    it(`${kind.kind}: structural, described, bounded`, () => {
      for (const part of ['spec', 'status']) {
        const top = root.properties?.[part];
        assert.ok(top !== undefined, part);
        for (const [path, node] of nodes(top, part)) {
          const intOrString = node['x-kubernetes-int-or-string'] === true;
          assert.ok(typeof node['type'] === 'string' || intOrString, `${path} has a type`);
          assert.ok(!('oneOf' in node || 'allOf' in node || ('anyOf' in node && !intOrString)), `${path} has no union`);
          assert.notEqual(node.additionalProperties, false, `${path}: additionalProperties false is not structural`);
          for (const [name, child] of Object.entries(node.properties ?? {})) {
            assert.ok(typeof child['description'] === 'string' && child['description'].length > 0, `${path}.${name} has a description`);
          }
          // CEL cost estimates need bounds on every string and list.
          const unbounded = node['type'] === 'string' && !['maxLength', 'enum', 'format'].some((k) => k in node);
          assert.ok(!unbounded, `${path} has a maximum length`);
          if (node['type'] === 'array') assert.ok('maxItems' in node, `${path} has maxItems`);
        }
      }
    });

    it(`${kind.kind}: list-map keys are required, printer columns and selectable fields exist`, () => {
      for (const [path, node] of nodes(root, kind.singular)) {
        const keys = node['x-kubernetes-list-map-keys'] as string[] | undefined;
        for (const key of keys ?? []) assert.ok(node.items?.required?.includes(key), `${path}: list-map key ${key} is required`);
      }
      for (const column of version.additionalPrinterColumns.filter((c) => !c.jsonPath.startsWith('.metadata.'))) {
        const node = resolve(root, column.jsonPath);
        assert.ok(node !== undefined, `column ${column.name}: ${column.jsonPath} exists`);
        if (column.type === 'integer') assert.equal(node['type'], 'integer', `column ${column.name} is an integer`);
      }
      for (const { jsonPath } of version.selectableFields ?? []) assert.equal(resolve(root, jsonPath)?.['type'], 'string', jsonPath);
    });
  }

  it('refuses what the API server would refuse or explain would leave blank', () => {
    assert.throws(() => toOpenApi(z.object({ a: z.union([z.string(), z.int()]).describe('a') })), SchemaError);
    assert.throws(() => toOpenApi(z.object({ a: z.string() })), /a: no description/);
    assert.throws(() => toOpenApi(z.object({ a: z.string().nullable().describe('a') })), SchemaError);
  });
});
