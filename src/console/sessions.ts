// Server-side sessions and one-time session links. A session id is 256 random bits, the only
// thing the browser holds (in an HttpOnly cookie); the user's token stays in this process's
// memory and is never written anywhere. A session ends at its idle or its absolute expiry, on
// sign-out, or when the console stops; whatever was opened for it (its API client, its watches)
// is closed then.
import { randomBytes } from 'node:crypto';

export interface SessionTimes {
  /** Absolute lifetime (default 8 h). */
  ttlMs?: number;
  /** Ends after this long without a request (default 30 min). */
  idleMs?: number;
  now?: () => number;
}

export interface Session<T> {
  readonly id: string;
  readonly createdAt: number;
  lastSeen: number;
  readonly data: T;
  /** Run once when the session ends (close the user's client, end its watches). */
  readonly closers: Set<() => void>;
}

/** 256 random bits, URL-safe. */
export const newId = (): string => randomBytes(32).toString('base64url');

const ID = /^[A-Za-z0-9_-]{43}$/;

export class SessionStore<T> {
  readonly ttlMs: number;
  readonly idleMs: number;
  readonly #now: () => number;
  readonly #sessions = new Map<string, Session<T>>();

  constructor(options: SessionTimes = {}) {
    this.ttlMs = options.ttlMs ?? 8 * 3600_000;
    this.idleMs = options.idleMs ?? 30 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  create(data: T): Session<T> {
    const now = this.#now();
    const session: Session<T> = { id: newId(), createdAt: now, lastSeen: now, data, closers: new Set() };
    this.#sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id, its idle timer restarted; undefined if unknown or expired. */
  touch(id: string | undefined): Session<T> | undefined {
    if (id === undefined || !ID.test(id)) return undefined;
    const session = this.#sessions.get(id);
    if (session === undefined) return undefined;
    const now = this.#now();
    if (this.#expired(session, now)) {
      this.end(id);
      return undefined;
    }
    session.lastSeen = now;
    return session;
  }

  /** Seconds the cookie may live: until the absolute expiry. */
  maxAgeSeconds(session: Session<T>): number {
    return Math.max(0, Math.floor((session.createdAt + this.ttlMs - this.#now()) / 1000));
  }

  end(id: string): boolean {
    const session = this.#sessions.get(id);
    if (session === undefined) return false;
    this.#sessions.delete(id);
    for (const close of session.closers) {
      try {
        close();
      } catch {
        // a closer's failure must not keep the others from running
      }
    }
    session.closers.clear();
    return true;
  }

  /** Ends the expired sessions; returns how many. */
  sweep(): number {
    const now = this.#now();
    let ended = 0;
    for (const session of [...this.#sessions.values()]) {
      if (this.#expired(session, now) && this.end(session.id)) ended++;
    }
    return ended;
  }

  endAll(): void {
    for (const id of [...this.#sessions.keys()]) this.end(id);
  }

  get size(): number {
    return this.#sessions.size;
  }

  #expired(session: Session<T>, now: number): boolean {
    return now >= session.createdAt + this.ttlMs || now >= session.lastSeen + this.idleMs;
  }
}

export interface Link<T> {
  readonly data: T;
  readonly expiresAt: number;
  consumed: boolean;
}

export type Redeemed<T> = { ok: true; data: T } | { ok: false; reason: 'unknown' | 'gone' };

/**
 * One-time links: an id that can be redeemed once, before it expires. A redeemed or expired id is
 * remembered for a while (so a second use is told it is gone, 410, and not that it never
 * existed); its data is dropped at once.
 */
export class LinkStore<T> {
  readonly #now: () => number;
  readonly #links = new Map<string, Link<T | undefined>>();
  /** How long a spent id is remembered past its expiry. */
  readonly #rememberMs: number;

  constructor(options: { now?: () => number; rememberMs?: number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#rememberMs = options.rememberMs ?? 3600_000;
  }

  create(data: T, ttlMs: number): string {
    const id = newId();
    this.#links.set(id, { data, expiresAt: this.#now() + ttlMs, consumed: false });
    return id;
  }

  redeem(id: string): Redeemed<T> {
    const link = ID.test(id) ? this.#links.get(id) : undefined;
    if (link === undefined) return { ok: false, reason: 'unknown' };
    const data = link.data;
    if (link.consumed || data === undefined || this.#now() >= link.expiresAt) {
      this.#spend(id, link);
      return { ok: false, reason: 'gone' };
    }
    this.#spend(id, link);
    return { ok: true, data };
  }

  sweep(): void {
    const now = this.#now();
    for (const [id, link] of [...this.#links]) {
      if (now >= link.expiresAt) this.#spend(id, link);
      if (now >= link.expiresAt + this.#rememberMs) this.#links.delete(id);
    }
  }

  get size(): number {
    return this.#links.size;
  }

  #spend(id: string, link: Link<T | undefined>): void {
    this.#links.set(id, { data: undefined, expiresAt: link.expiresAt, consumed: true });
  }
}
