// Reads ahead of a consumer: fill() pulls items (up to a byte budget) while the caller does other
// work, then iterating yields those first and the rest straight from the source.
import { setImmediate as yieldToIo } from 'node:timers/promises';

export class Prefetch<T extends { stored: number }> implements AsyncIterable<T> {
  private readonly source: AsyncIterator<T>;
  private readonly budget: number;
  private ahead: (T | undefined)[] = [];
  private done = false;
  private failure: { error: unknown } | undefined;

  constructor(source: AsyncIterable<T>, budgetBytes: number) {
    this.source = source[Symbol.asyncIterator]();
    this.budget = budgetBytes;
  }

  /** Pulls items until the budget is used or the source ends; never rejects (iteration does). */
  async fill(): Promise<void> {
    let bytes = 0;
    try {
      while (bytes < this.budget) {
        // Let I/O callbacks (the copies' completions) run between decodes.
        await yieldToIo();
        const r = await this.source.next();
        if (r.done === true) {
          this.done = true;
          return;
        }
        this.ahead.push(r.value);
        bytes += r.value.stored;
      }
    } catch (err: unknown) {
      this.failure = { error: err };
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    // Each slot is cleared as it is handed over, so memory goes as the consumer goes.
    for (let i = 0; i < this.ahead.length; i++) {
      const item = this.ahead[i];
      this.ahead[i] = undefined;
      if (item !== undefined) yield item;
    }
    this.ahead = [];
    if (this.failure !== undefined) throw this.failure.error;
    if (this.done) return;
    for (;;) {
      const r = await this.source.next();
      if (r.done === true) return;
      yield r.value;
    }
  }

  /** Stops the source (when it is still open). */
  async close(): Promise<void> {
    this.ahead = [];
    if (!this.done) {
      this.done = true;
      await this.source.return?.();
    }
  }
}
