// The controllers' parse of what they read: the same zod schemas the CRDs are generated from, so a
// bad object gets the verdict the API server would give, with field paths written the way the
// API server writes them (spec.bootOrder[0].workloads[1].name), ready for a condition message.
import type { z } from 'zod';

export interface FieldProblem {
  field: string;
  message: string;
}

/** A spec the API server should not have let through (an older CRD, a client without validation): terminal until the object changes. */
export class InvalidObjectError extends Error {
  override readonly name = 'InvalidObjectError';
  readonly code = 'InvalidObject';
  readonly problems: readonly FieldProblem[];
  constructor(problems: readonly FieldProblem[]) {
    super(problems.map((p) => `${p.field}: ${p.message}`).join('; '));
    this.problems = problems;
  }
}

/** A zod issue path as the API server prints it: spec.nodeSelector.zcsp.io/site, spec.bootOrder[0].name. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

/** One problem per field; an unknown field is reported at its own path, as the API server does. */
export function fieldProblems(error: z.ZodError): FieldProblem[] {
  return error.issues.flatMap((issue) => issue.code === 'unrecognized_keys'
    ? issue.keys.map((key) => ({ field: fieldPath([...issue.path, key]), message: 'unknown field' }))
    : [{ field: fieldPath(issue.path), message: issue.message }]);
}

/** The object as its kind's schema (e.g. vpgKind) reads it (defaults applied), or an InvalidObjectError. */
export function parseObject<S extends z.ZodType>(kind: { schema: S }, object: unknown): z.output<S> {
  const result = kind.schema.safeParse(object);
  if (!result.success) throw new InvalidObjectError(fieldProblems(result.error));
  return result.data;
}
