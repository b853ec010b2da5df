// The informer's in-memory copy of the objects of one kind, keyed "namespace/name" (or "name" for
// cluster-scoped objects), as client-go's cache.MetaNamespaceKeyFunc does.
//
// Objects are deep-frozen on the way in: controllers share them, and a reconcile that mutated a
// cached object would corrupt every other reader's view (in strict-mode ESM a write throws).
import type { KubeObject } from './types.ts';

export function objectKey(obj: KubeObject): string {
  const name = obj.metadata?.name ?? '';
  const namespace = obj.metadata?.namespace;
  return namespace === undefined || namespace === '' ? name : `${namespace}/${name}`;
}

export function splitKey(key: string): { namespace?: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export function joinKey(namespace: string | undefined, name: string): string {
  return namespace === undefined || namespace === '' ? name : `${namespace}/${name}`;
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export interface StoreDiff<T> {
  added: T[];
  updated: { old: T; obj: T }[];
  deleted: T[];
}

export class Store<T extends KubeObject> {
  readonly #items = new Map<string, T>();

  get size(): number {
    return this.#items.size;
  }

  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  getByName(name: string, namespace?: string): T | undefined {
    return this.#items.get(joinKey(namespace, name));
  }

  keys(): string[] {
    return [...this.#items.keys()];
  }

  /** Every object, or those of one namespace, optionally filtered by labels (all must match). */
  list(options: { namespace?: string; labels?: Record<string, string> } = {}): T[] {
    const out: T[] = [];
    for (const obj of this.#items.values()) {
      if (options.namespace !== undefined && obj.metadata?.namespace !== options.namespace) continue;
      if (options.labels !== undefined && !matchesLabels(obj, options.labels)) continue;
      out.push(obj);
    }
    return out;
  }

  /** Stores the object; returns the one it replaced. */
  upsert(obj: T): T | undefined {
    const key = objectKey(obj);
    const old = this.#items.get(key);
    this.#items.set(key, deepFreeze(obj));
    return old;
  }

  delete(obj: T): T | undefined {
    const key = objectKey(obj);
    const old = this.#items.get(key);
    this.#items.delete(key);
    return old;
  }

  /**
   * Replaces the whole content with a fresh list and says what changed: an object is updated when
   * its resourceVersion differs, deleted when the list no longer has it (its last known state).
   */
  replace(objects: readonly T[]): StoreDiff<T> {
    const diff: StoreDiff<T> = { added: [], updated: [], deleted: [] };
    const seen = new Set<string>();
    for (const obj of objects) {
      const key = objectKey(obj);
      seen.add(key);
      const old = this.#items.get(key);
      if (old === undefined) diff.added.push(obj);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) diff.updated.push({ old, obj });
      else continue;
      this.#items.set(key, deepFreeze(obj));
    }
    for (const [key, old] of this.#items) {
      if (seen.has(key)) continue;
      this.#items.delete(key);
      diff.deleted.push(old);
    }
    return diff;
  }
}

export function matchesLabels(obj: KubeObject, labels: Record<string, string>): boolean {
  const have = obj.metadata?.labels ?? {};
  return Object.entries(labels).every(([k, v]) => have[k] === v);
}
