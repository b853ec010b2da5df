// Schema pieces every kind of the zcsp.io API shares: names, quantities, timestamps, label
// selectors, lists with Kubernetes list semantics, and the status conditions.
//
// Every string and list is bounded: the API server estimates the worst-case cost of each CEL rule
// from these bounds and refuses a CRD whose rules could cost too much. Patterns run in two regex
// engines, JavaScript's (zod) and Go's RE2 (the API server): no lookarounds or backreferences, and
// no \s (Unicode in one, ASCII in the other): spell such sets out.
import { z } from 'zod';
import { QUANTITY_PATTERN, compareQuantities } from './quantity.ts';
import { withRules, type Rule } from './rules.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** The name of a Kubernetes object (a DNS subdomain: PVCs, Deployments, Secrets, our own kinds). */
export const objectName = (description: string) =>
  z.string().min(1).max(253).regex(DNS_SUBDOMAIN).describe(description);

/** A namespace name (a DNS label). */
export const namespaceName = (description: string) =>
  z.string().min(1).max(63).regex(DNS_LABEL).describe(description);

/** A short name for an item of a list, unique in that list (a DNS label). */
export const itemName = (description: string) =>
  z.string().min(1).max(63).regex(DNS_LABEL).describe(description);

/** An RFC 3339 time, as metav1.Time serialises it ("2026-01-02T15:04:05Z"). */
export const timestamp = (description: string) => z.iso.datetime({ offset: true }).describe(description);

/**
 * Labels: what node and label selectors match. Values are checked as Kubernetes checks label
 * values; keys are not (OpenAPI v3.0 has no schema for map keys, so neither does zod here).
 */
export const labels = (description: string, bounds: { min?: number; max: number }) => {
  const min = bounds.min ?? 0;
  return z.record(z.string(), z.string().max(63).regex(LABEL_VALUE))
    .check((ctx) => {
      const n = Object.keys(ctx.value).length;
      if (n < min || n > bounds.max) {
        ctx.issues.push({ code: 'custom', message: `must have ${min} to ${bounds.max} entries`, input: ctx.value });
      }
    })
    .meta({ maxProperties: bounds.max, ...(min > 0 && { minProperties: min }) })
    .describe(description);
};

/**
 * A size (or CPU): a Kubernetes quantity, as a string ("150Gi", "500m") or an integer, like the
 * API server's own resource.Quantity fields: int-or-string with Kubernetes' pattern. Never negative.
 */
export const quantity = (description: string) =>
  z.union([z.int().min(0), z.string().max(64).regex(QUANTITY_PATTERN)])
    .meta({ 'x-kubernetes-int-or-string': true })
    .describe(description);

/** A quantity above zero. */
export const positiveQuantity = (description: string, extra: readonly Rule<string | number>[] = []) =>
  withRules(quantity(description), [
    { cel: "quantity(string(self)).isGreaterThan(quantity('0'))", message: 'must be greater than zero', check: (q) => compareQuantities(q, 0) > 0 },
    ...extra,
  ]);

/** minItems only when there is one: `minItems: 0` is noise in the CRD. */
const bounded = <T extends z.ZodArray>(list: T, bounds: { min?: number; max: number }): T =>
  bounds.min === undefined ? list.max(bounds.max) : list.min(bounds.min).max(bounds.max);

/** A list without duplicates (`x-kubernetes-list-type: set`); the API server rejects duplicates itself. */
export const setOf = <T extends z.ZodString>(item: T, bounds: { min?: number; max: number }, description: string) =>
  bounded(z.array(item), bounds)
    .check((ctx) => {
      ctx.value.forEach((v, i) => {
        if (ctx.value.indexOf(v) !== i) ctx.issues.push({ code: 'custom', message: `duplicate value "${v}"`, input: v, path: [i] });
      });
    })
    .meta({ 'x-kubernetes-list-type': 'set' })
    .describe(description);

/**
 * A list of objects keyed by some of their fields (`x-kubernetes-list-type: map`): server-side
 * apply merges items by key and the API server rejects duplicate keys itself.
 */
export const listMap = <T extends z.ZodObject>(item: T, keys: readonly (keyof z.output<T> & string)[], bounds: { min?: number; max: number }, description: string) =>
  bounded(z.array(item), bounds)
    .check((ctx) => {
      const seen = new Set<string>();
      ctx.value.forEach((v, i) => {
        const key = JSON.stringify(keys.map((k) => v[k]));
        if (seen.has(key)) ctx.issues.push({ code: 'custom', message: `duplicate ${keys.join('/')} ${key}`, input: v, path: [i] });
        seen.add(key);
      });
    })
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': [...keys] })
    .describe(description);

const selectorRequirement = withRules(z.strictObject({
  key: z.string().min(1).max(317).describe('The label key the requirement applies to.'),
  operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']).describe('How the label\'s value relates to `values`: In, NotIn, Exists or DoesNotExist.'),
  values: z.array(z.string().max(63)).max(16).optional()
    .describe('The values for In and NotIn (at least one); must be empty for Exists and DoesNotExist.'),
}), [{
  cel: "(self.operator in ['In', 'NotIn']) == (has(self.values) && size(self.values) > 0)",
  message: 'values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist',
  field: ['values'],
  check: (r) => ['In', 'NotIn'].includes(r.operator) === (r.values !== undefined && r.values.length > 0),
}]);

/** A metav1.LabelSelector that must select something: an empty selector would match every object. */
export const labelSelector = (description: string) => withRules(z.strictObject({
  matchLabels: labels('Labels an object must have, all of them.', { max: 16 }).optional(),
  matchExpressions: z.array(selectorRequirement).max(16).optional()
    .describe('Requirements on labels an object must meet, all of them.'),
}), [{
  cel: '(has(self.matchLabels) && size(self.matchLabels) > 0) || (has(self.matchExpressions) && size(self.matchExpressions) > 0)',
  message: 'an empty selector matches everything: set matchLabels or matchExpressions',
  reason: 'FieldValueRequired',
  field: ['matchLabels'],
  check: (s) => Object.keys(s.matchLabels ?? {}).length > 0 || (s.matchExpressions ?? []).length > 0,
}]).describe(description);

/** A Secret in a namespace the reference names (cluster-scoped kinds have no namespace of their own). */
export const secretReference = (description: string) => z.strictObject({
  name: objectName('Name of the Secret.'),
  namespace: namespaceName('Namespace of the Secret.'),
}).describe(description);

export const Priority = z.enum(['High', 'Medium', 'Low']);

/** metav1.Condition, with the API server's own bounds. */
const condition = z.strictObject({
  type: z.string().min(1).max(316)
    .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/)
    .describe('Type of the condition, in CamelCase, e.g. Ready. One condition per type.'),
  status: z.enum(['True', 'False', 'Unknown']).describe('Status of the condition: True, False or Unknown.'),
  observedGeneration: z.int().min(0).optional()
    .describe('The .metadata.generation the condition was computed from; older than the object\'s generation means stale.'),
  lastTransitionTime: timestamp('When the status last changed.'),
  reason: z.string().min(1).max(1024).regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
    .describe('A CamelCase word for why the condition has its status, for programs to match on.'),
  message: z.string().max(32768).describe('Why the condition has its status, for people.'),
});

/** The status fields every kind has: conditions and the generation the controller last acted on. */
export const statusBase = {
  conditions: listMap(condition, ['type'], { max: 16 },
    'The latest observations of the object\'s state, one per type (like metav1.Condition); Ready summarises them.').optional(),
  observedGeneration: z.int().min(0).optional()
    .describe('The .metadata.generation the controller last acted on; status describes that generation.'),
};
