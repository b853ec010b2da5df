// A TCP proxy that misbehaves on demand, for link tests: it cuts every connection, refuses new ones
// for a while ("link down"), delays or throttles the bytes, or corrupts one byte at an offset. It
// forwards bytes only (TLS runs end to end through it, as through the ZCC's tunnels).
import { createServer, connect, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** up: client → target; down: target → client. */
export type Direction = 'up' | 'down';

export interface FaultProxyOptions {
  target: { host: string; port: number };
  host?: string;
  port?: number;
}

export interface FaultProxyStats {
  /** Connections accepted and forwarded. */
  accepted: number;
  /** Connections refused while down. */
  refused: number;
  /** Connections cut by cut() or down(). */
  cut: number;
  /** Connections open now. */
  open: number;
  bytesUp: number;
  bytesDown: number;
  /** Bytes the proxy corrupted. */
  corrupted: number;
}

export interface FaultProxy {
  readonly port: number;
  readonly stats: FaultProxyStats;
  /** Destroys every open connection (both sides see a reset). */
  cut(): void;
  /** Cuts and refuses new connections until up() or, when given, for `ms`. */
  down(ms?: number): void;
  up(): void;
  readonly isDown: boolean;
  /** Holds each chunk this long before forwarding it (0: none). */
  setDelay(ms: number): void;
  /** Forwards at most this many bytes per second each way (undefined: unlimited). */
  setThrottle(bytesPerSecond: number | undefined): void;
  /** Stops forwarding (reads pause, so TCP backpressure reaches the writer) until resumed. */
  stall(direction: Direction): void;
  resume(direction: Direction): void;
  /** Calls `fn` with every chunk forwarded (after any corruption); undefined stops. */
  tap(fn: ((direction: Direction, chunk: Buffer) => void) | undefined): void;
  /**
   * XORs `mask` into the byte at `offset` of one direction of the next connection accepted (or of
   * connection number `connection`, counting from 1 over the proxy's lifetime).
   */
  corrupt(spec: { offset: number; direction?: Direction; mask?: number; connection?: number }): void;
  close(): Promise<void>;
}

interface Corruption {
  offset: number;
  direction: Direction;
  mask: number;
  connection: number | undefined;
}

interface Pair {
  client: Socket;
  target: Socket;
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const stats: FaultProxyStats = { accepted: 0, refused: 0, cut: 0, open: 0, bytesUp: 0, bytesDown: 0, corrupted: 0 };
  const pairs = new Set<Pair>();
  let down = false;
  let downTimer: NodeJS.Timeout | undefined;
  let delayMs = 0;
  let throttle: number | undefined;
  const stalled = { up: false, down: false };
  const stallWaiters: { up: (() => void)[]; down: (() => void)[] } = { up: [], down: [] };
  const corruptions: Corruption[] = [];
  let connections = 0;
  let tapFn: ((direction: Direction, chunk: Buffer) => void) | undefined;

  const waitUnstalled = async (direction: Direction): Promise<void> => {
    while (stalled[direction]) await new Promise<void>((resolve) => stallWaiters[direction].push(resolve));
  };

  /** Copies one direction chunk by chunk, applying the faults in force when each chunk arrives. */
  const forward = async (from: Socket, to: Socket, direction: Direction, faults: Corruption[]): Promise<void> => {
    let offset = 0;
    for await (const data of from) {
      const chunk = data as Buffer;
      await waitUnstalled(direction);
      for (const f of faults) {
        if (f.offset >= offset && f.offset < offset + chunk.length) {
          chunk[f.offset - offset] = (chunk[f.offset - offset] ?? 0) ^ f.mask;
          stats.corrupted++;
        }
      }
      offset += chunk.length;
      if (delayMs > 0) await sleep(delayMs);
      if (throttle !== undefined) await sleep((chunk.length / throttle) * 1000);
      if (to.destroyed) return;
      tapFn?.(direction, chunk);
      if (direction === 'up') stats.bytesUp += chunk.length;
      else stats.bytesDown += chunk.length;
      if (!to.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            to.off('drain', done);
            to.off('close', done);
            resolve();
          };
          to.on('drain', done);
          to.on('close', done);
        });
      }
    }
    to.end();
  };

  const cutAll = (): void => {
    for (const p of pairs) {
      stats.cut++;
      p.client.resetAndDestroy();
      p.target.resetAndDestroy();
    }
    pairs.clear();
  };

  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    if (down) {
      stats.refused++;
      client.resetAndDestroy();
      return;
    }
    const n = ++connections;
    stats.accepted++;
    const mine = corruptions.filter((c) => c.connection === undefined || c.connection === n);
    for (const c of mine) corruptions.splice(corruptions.indexOf(c), 1);
    const target = connect({ host: options.target.host, port: options.target.port });
    const pair: Pair = { client, target };
    pairs.add(pair);
    stats.open++;
    let closedSides = 0;
    const onClose = (): void => {
      if (++closedSides === 2) {
        stats.open--;
        pairs.delete(pair);
      }
    };
    const fail = (): void => {
      client.destroy();
      target.destroy();
    };
    client.on('error', fail);
    target.on('error', fail);
    client.on('close', onClose);
    target.on('close', onClose);
    target.once('connect', () => {
      client.resume();
      forward(client, target, 'up', mine.filter((c) => c.direction === 'up')).catch(fail);
      forward(target, client, 'down', mine.filter((c) => c.direction === 'down')).catch(fail);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;

  const proxy: FaultProxy = {
    port,
    stats,
    cut: cutAll,
    down(ms?: number) {
      down = true;
      cutAll();
      clearTimeout(downTimer);
      if (ms !== undefined) downTimer = setTimeout(() => proxy.up(), ms);
    },
    up() {
      clearTimeout(downTimer);
      down = false;
    },
    get isDown() {
      return down;
    },
    setDelay(ms: number) {
      delayMs = ms;
    },
    setThrottle(bytesPerSecond: number | undefined) {
      if (bytesPerSecond !== undefined && !(bytesPerSecond > 0)) throw new RangeError(`throttle ${bytesPerSecond} is not positive`);
      throttle = bytesPerSecond;
    },
    stall(direction: Direction) {
      stalled[direction] = true;
    },
    resume(direction: Direction) {
      stalled[direction] = false;
      for (const w of stallWaiters[direction].splice(0)) w();
    },
    tap(fn) {
      tapFn = fn;
    },
    corrupt(spec) {
      if (!Number.isInteger(spec.offset) || spec.offset < 0) throw new RangeError(`corrupt offset ${spec.offset} is not a byte offset`);
      const mask = spec.mask ?? 0xff;
      if (!Number.isInteger(mask) || mask < 1 || mask > 255) throw new RangeError(`corrupt mask ${mask} is not 1..255`);
      corruptions.push({ offset: spec.offset, direction: spec.direction ?? 'up', mask, connection: spec.connection });
    },
    async close() {
      clearTimeout(downTimer);
      proxy.resume('up');
      proxy.resume('down');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      cutAll();
      await closed;
    },
  };
  return proxy;
}
