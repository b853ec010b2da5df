// Comparing JSON values the way the API server stores them: key order never matters, and a key
// whose value is undefined is the same as no key (JSON.stringify drops it).

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function definedKeys(o: Record<string, unknown>): string[] {
  return Object.keys(o).filter((k) => o[k] !== undefined);
}

/** Deep equality of JSON values, ignoring key order and undefined-valued keys. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => deepEqual(v, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = definedKeys(a);
    const kb = definedKeys(b);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/**
 * Whether everything `desired` sets is in `live` with the same value: the fields a server-side
 * apply would write. The API server adds defaults and other managers add fields, so `live` may
 * have more: extra keys are fine, and a list matches when `desired`'s items match, in order, some
 * of `live`'s (associative lists merge other managers' items in). An empty map or list matches
 * a missing one.
 */
export function isSubset(desired: unknown, live: unknown): boolean {
  if (desired === undefined) return true;
  // Built-in kinds omit empty maps and lists (omitempty): applying `data: {}` leaves no `data`.
  if (live === undefined && ((Array.isArray(desired) && desired.length === 0) || (isPlainObject(desired) && definedKeys(desired).length === 0))) return true;
  if (Array.isArray(desired)) {
    if (!Array.isArray(live)) return false;
    let j = 0;
    for (const item of desired) {
      while (j < live.length && !isSubset(item, live[j])) j++;
      if (j === live.length) return false;
      j++;
    }
    return true;
  }
  if (isPlainObject(desired)) {
    if (!isPlainObject(live)) return false;
    return definedKeys(desired).every((k) => isSubset(desired[k], live[k]));
  }
  return desired === live;
}

/** JSON with sorted keys: the same value always gives the same text (for hashes). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): Json | undefined {
  if (Array.isArray(value)) return value.map((v) => sortKeys(v) ?? null);
  if (isPlainObject(value)) {
    const out: Record<string, Json> = {};
    for (const k of definedKeys(value).sort()) {
      const v = sortKeys(value[k]);
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
  return value as Json;
}

/**
 * The JSON merge patch (RFC 7386) that turns `from` into `to`: changed keys with their new value,
 * removed keys as null, lists replaced whole. undefined when they are already equal.
 */
export function mergePatchDiff(from: unknown, to: unknown): unknown {
  if (deepEqual(from, to)) return undefined;
  if (!isPlainObject(from) || !isPlainObject(to)) return to === undefined ? null : to;
  const patch: Record<string, unknown> = {};
  for (const k of definedKeys(from)) {
    if (to[k] === undefined) patch[k] = null;
  }
  for (const k of definedKeys(to)) {
    const d = mergePatchDiff(from[k], to[k]);
    if (d !== undefined) patch[k] = d;
  }
  return patch;
}
