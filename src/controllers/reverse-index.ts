// Which owners refer to a key, kept by the reconciles that know it: a Zorg's reconcile records
// its namespaces and service profiles, so that a change to a VPG in a namespace, or to a
// profile, maps back to the Zorgs to reconcile (a watch's map function has no cache to ask).
//
// Level-triggered all the same: a reconcile updates the index before it reads the cache, so an
// event the index could not map yet happened before that read, and the read sees its effect.
export class ReverseIndex {
  readonly #byKey = new Map<string, Set<string>>();
  readonly #byOwner = new Map<string, readonly string[]>();

  /** The keys `owner` refers to now (replacing what it referred to before). */
  set(owner: string, keys: readonly string[]): void {
    this.delete(owner);
    const unique = [...new Set(keys)];
    this.#byOwner.set(owner, unique);
    for (const key of unique) {
      let owners = this.#byKey.get(key);
      if (owners === undefined) this.#byKey.set(key, (owners = new Set()));
      owners.add(owner);
    }
  }

  delete(owner: string): void {
    for (const key of this.#byOwner.get(owner) ?? []) {
      const owners = this.#byKey.get(key);
      owners?.delete(owner);
      if (owners?.size === 0) this.#byKey.delete(key);
    }
    this.#byOwner.delete(owner);
  }

  /** The owners that refer to `key`, sorted. */
  owners(key: string): string[] {
    return [...(this.#byKey.get(key) ?? [])].sort();
  }

  /** The keys `owner` refers to. */
  keys(owner: string): readonly string[] {
    return this.#byOwner.get(owner) ?? [];
  }
}
