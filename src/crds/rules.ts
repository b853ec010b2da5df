// Cross-field rules, declared once in two languages side by side: the CEL the API server runs
// (`x-kubernetes-validations` in the generated CRD) and the TypeScript check the controllers'
// zod parse runs. Keeping both in one entry is what keeps their verdicts the same; the
// integration test holds them to it on every invalid case.
import { z } from 'zod';

/** The field the message is about, relative to the object the rule sits on; the API server and zod both report it. */
type FieldPath = readonly (string | number)[];

type Reason = 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired';

interface RuleBase {
  /** CEL with `self` bound to the object the rule sits on (and `oldSelf` for a transition rule). */
  readonly cel: string;
  /** Shown after the field path: write it for the person whose apply was refused. */
  readonly message: string;
  readonly field?: FieldPath;
  readonly reason?: Reason;
}

/**
 * A rule on values: `check` is the CEL rule in TypeScript. A transition rule compares with the
 * stored object (`oldSelf`), which a parse of one object cannot see: only the API server enforces it.
 */
export type Rule<T> = RuleBase & ({ readonly check: (self: T) => boolean } | { readonly transition: true });

interface CelRule {
  rule: string;
  message: string;
  fieldPath?: string;
  reason?: Reason;
}

const VALIDATIONS = 'x-kubernetes-validations';

function fieldPath(path: FieldPath): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
}

function toCel(rule: RuleBase): CelRule {
  return {
    rule: rule.cel,
    message: rule.message,
    ...(rule.field !== undefined && { fieldPath: fieldPath(rule.field) }),
    ...(rule.reason !== undefined && { reason: rule.reason }),
  };
}

/** The schema with the rules added to any it already has. Call `.describe()` after, not before. */
export function withRules<S extends z.ZodType>(schema: S, rules: readonly Rule<z.output<S>>[]): S {
  const checks = rules.filter((r) => 'check' in r);
  const checked = checks.length === 0 ? schema : schema.check((ctx) => {
    // zod runs checks after non-fatal issues (a failed pattern) too; the value is already refused
    // then, and may not be what the rule expects (a string that is not a quantity).
    if (ctx.issues.length > 0) return;
    for (const r of checks) {
      if (!r.check(ctx.value)) {
        ctx.issues.push({ code: 'custom', message: r.message, input: ctx.value, path: [...(r.field ?? [])] });
      }
    }
  });
  const meta = z.globalRegistry.get(schema) ?? {};
  const existing = (meta[VALIDATIONS] ?? []) as CelRule[];
  return checked.meta({ ...meta, [VALIDATIONS]: [...existing, ...rules.map(toCel)] });
}

/** `self == oldSelf` on a field: set at creation, never changed. */
export function immutable<S extends z.ZodType>(schema: S, message: string): S {
  return withRules(schema, [{ cel: 'self == oldSelf', message, transition: true }]);
}
