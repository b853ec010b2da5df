// The shape of the invalid-manifest table: each case is a JSON merge patch that breaks a valid
// object of its kind, the field the API server must name in its refusal, and zod's verdict.

/** Why a manifest is invalid; the test reports counts per category. */
export type Category = 'type' | 'range' | 'format' | 'required' | 'unknown' | 'duplicate' | 'conflict' | 'immutable';

export type KindName = 'ServiceProfile' | 'Zorg' | 'Site' | 'VPG' | 'ZCC';

/** A JSON merge patch (RFC 7386): objects merge, null removes, anything else replaces. */
export type Patch = { [key: string]: unknown };

export interface InvalidCase {
  kind: KindName;
  category: Category;
  what: string;
  /** Applied to the kind's valid base object: the invalid manifest (create), or the update. */
  patch: Patch;
  /** Where the API server's message must point; where zod judges, the path of one of its issues. */
  field: string;
  /**
   * Update cases: the object is first created from the base with this patch, then patched with
   * `patch`. They test CEL transition rules (oldSelf), which a parse of one object cannot judge.
   */
  before?: Patch;
  /** zod's verdict on the resulting object: `rejects`, or `accepts` where only the API server can tell. */
  zod: 'rejects' | 'accepts';
}

type Row = readonly [category: Exclude<Category, 'immutable'>, what: string, patch: Patch, field: string];
type UpdateRow = readonly [what: string, before: Patch, patch: Patch, field: string];

/** Cases on one object: zod must reject them as the API server does. */
export const rejected = (kind: KindName, rows: readonly Row[]): InvalidCase[] =>
  rows.map(([category, what, patch, field]) => ({ kind, category, what, patch, field, zod: 'rejects' }));

/** Cases on an update (transition rules): the new object is valid by itself, so zod accepts it. */
export const immutable = (kind: KindName, rows: readonly UpdateRow[]): InvalidCase[] =>
  rows.map(([what, before, patch, field]) => ({ kind, category: 'immutable', what, before, patch, field, zod: 'accepts' }));

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return structuredClone(patch);
  const result: Patch = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Patch) } : {};
  for (const [key, value] of Object.entries(patch)) result[key] = value === null ? undefined : mergePatch(result[key], value);
  return Object.fromEntries(Object.entries(result).filter(([, value]) => value !== undefined));
}
