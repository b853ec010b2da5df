// A watch can go silent without failing: a proxy or load balancer keeps the TCP connection open
// but no longer forwards anything (client-node issues #596, #958). The API server sends a bookmark
// before a watch's timeoutSeconds runs out, so a healthy watch always says something (an event, a
// bookmark or the end of the stream) within its timeout: silence beyond that means it is dead.
export class Watchdog {
  readonly #timeoutMs: number;
  readonly #onSilent: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #fired = false;
  #stopped = false;

  constructor(timeoutMs: number, onSilent: () => void) {
    this.#timeoutMs = timeoutMs;
    this.#onSilent = onSilent;
  }

  /** Starts (or restarts) the countdown. */
  kick(): void {
    if (this.#fired || this.#stopped) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#fired = true;
      this.#onSilent();
    }, this.#timeoutMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#stopped = true;
  }

  /** Whether the watch went silent (as opposed to being stopped). */
  get fired(): boolean {
    return this.#fired;
  }
}
