// zod → the OpenAPI v3 schema of a CRD version. zod's own converter does most of the work; this
// turns its output into a *structural* schema (every node typed, no anyOf except the int-or-string
// form, no `additionalProperties: false` beside `properties`) and fails the generation on anything
// the API server would refuse or that `kubectl explain` would show without a description.
import { z } from 'zod';

export type OpenApiSchema = { [key: string]: unknown };

const INT_OR_STRING = 'x-kubernetes-int-or-string';

export class SchemaError extends Error {
  override readonly name = 'SchemaError';
  constructor(path: readonly string[], problem: string) {
    super(`${path.join('.') || '<root>'}: ${problem}`);
  }
}

const isObject = (v: unknown): v is OpenApiSchema => typeof v === 'object' && v !== null && !Array.isArray(v);

/** zod's bounds for a bare z.int(): JavaScript's safe range, which says nothing to a reader. */
const isSafeIntegerBound = (v: unknown): boolean => v === Number.MAX_SAFE_INTEGER || v === Number.MIN_SAFE_INTEGER;

/** Value validations of an int-or-string's branches move up: the branches must be bare types. */
function intOrString(node: OpenApiSchema, path: readonly string[]): OpenApiSchema {
  const branches = node['anyOf'];
  if (!Array.isArray(branches) || branches.length !== 2) throw new SchemaError(path, 'int-or-string needs exactly an integer and a string branch');
  const merged: OpenApiSchema = { ...node, anyOf: [{ type: 'integer' }, { type: 'string' }] };
  for (const branch of branches as OpenApiSchema[]) {
    for (const [key, value] of Object.entries(branch)) {
      if (key === 'type' || isSafeIntegerBound(value)) continue;
      if (key in merged) throw new SchemaError(path, `int-or-string branches both set "${key}"`);
      merged[key] = value;
    }
  }
  return merged;
}

/** Description and type first, then the rest as zod emitted it: easier to read in the YAML. */
function ordered(node: OpenApiSchema): OpenApiSchema {
  const { description, type, ...rest } = node;
  return { ...(description !== undefined && { description }), ...(type !== undefined && { type }), ...rest };
}

function normalize(input: OpenApiSchema, path: readonly string[]): OpenApiSchema {
  let node: OpenApiSchema = { ...input };
  if (node[INT_OR_STRING] === true) node = intOrString(node, path);
  else if ('anyOf' in node || 'oneOf' in node || 'allOf' in node) {
    throw new SchemaError(path, 'unions are not structural: use optional fields with a CEL rule, or int-or-string');
  }
  if (node['type'] === undefined && node[INT_OR_STRING] !== true) throw new SchemaError(path, 'every node needs a type');
  if ('nullable' in node) throw new SchemaError(path, 'nullable: leave the field out instead of null');
  if ('$ref' in node) throw new SchemaError(path, '$ref: convert with reused: "inline"');
  if (isSafeIntegerBound(node['minimum'])) delete node['minimum'];
  if (isSafeIntegerBound(node['maximum'])) delete node['maximum'];
  // z.literal([0, 1, 3]) comes out as a number enum; the API server should see integers.
  if (node['type'] === 'number' && Array.isArray(node['enum']) && node['enum'].every((v) => Number.isInteger(v))) node['type'] = 'integer';

  const properties = node['properties'];
  if (isObject(properties)) {
    // Strict objects reject unknown fields in the controllers' parse; the API server prunes them,
    // or rejects them for a request with fieldValidation=Strict (kubectl's default).
    if (node['additionalProperties'] === false) delete node['additionalProperties'];
    node['properties'] = Object.fromEntries(Object.entries(properties).map(([name, child]) => {
      if (!isObject(child)) throw new SchemaError([...path, name], 'not a schema');
      if (typeof child['description'] !== 'string' || child['description'] === '') {
        throw new SchemaError([...path, name], 'no description: kubectl explain would show nothing');
      }
      return [name, normalize(child, [...path, name])];
    }));
  }
  if (isObject(node['additionalProperties'])) node['additionalProperties'] = normalize(node['additionalProperties'], [...path, '*']);
  if (isObject(node['items'])) node['items'] = normalize(node['items'], [...path, '[]']);
  return ordered(node);
}

/** The structural OpenAPI v3 schema of a zod schema, with defaults from its input side. */
export function toOpenApi(schema: z.ZodType): OpenApiSchema {
  // io 'input': a field with a default is optional to the writer, and its default is emitted.
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', reused: 'inline', unrepresentable: 'throw' });
  return normalize(json, []);
}
