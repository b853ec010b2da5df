// A seeded generator (mulberry32): a failing random test prints its seed and replays exactly.
export class Random {
  readonly seed: number;
  #state: number;
  constructor(seed: number) {
    this.seed = seed >>> 0;
    this.#state = this.seed;
  }
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(max: number): number {
    return Math.floor(this.next() * max);
  }
  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** Bytes that compress (repeated words) or not (noise), as real data mixes both. */
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    if (this.chance(0.5)) {
      let i = 0;
      for (; i + 4 <= n; i += 4) out.writeUInt32LE(this.int(2 ** 32), i);
      for (; i < n; i++) out[i] = this.int(256);
    } else {
      const word = Buffer.from(`w${this.int(1000)} `);
      for (let i = 0; i < n; i++) out[i] = word[i % word.length] ?? 0;
    }
    return out;
  }
}

export function seedFromEnv(name: string): number {
  const given = process.env[name];
  return given !== undefined ? Number(given) : Math.floor(Math.random() * 2 ** 32);
}
