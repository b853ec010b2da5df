// Test helpers of ship/: an in-memory journal whose appends the test can hold, a TLS identity, a
// receiver and senders wired to it through a plain TCP hop (as through a ZCC tunnel).
import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { crc32 } from 'node:zlib';
import { recordType } from '../codec.ts';
import type { Manifest } from '../manifest.ts';
import { selfSignedCertificate } from '../../tls/self-signed.ts';
import type { JournalSink } from './journal-sink.ts';

export const SERVERNAME = 'vra-dr-1.zcsp-system.svc';
export const identity = selfSignedCertificate({ commonName: SERVERNAME, dnsNames: [SERVERNAME] });

/**
 * A journal in memory. Checks what a real journal must be able to rely on: appends continue
 * durableSeq without gaps or repeats, and a CRC given with a record is its bytes' (the journal
 * stores it unchecked). `hold()` makes appends wait until `release()`.
 */
export class MemoryJournal implements JournalSink {
  readonly records: { seq: number; bytes: Buffer; crc?: number }[] = [];
  appendCalls = 0;
  /** Seq of the last record handed to append (durable or not). */
  private appendedSeq = 0;
  private durable = 0;
  private checkpoint: { seq: number; time: number } | undefined;
  private held: (() => void)[] | undefined;
  failNext: Error | undefined;
  /** Set by any append that did not continue the journal. */
  violation: string | undefined;

  get durableSeq(): number {
    return this.durable;
  }

  lastCheckpoint(): { seq: number; time: number } | undefined {
    return this.checkpoint;
  }

  hold(): void {
    this.held ??= [];
  }

  release(): void {
    const waiting = this.held ?? [];
    this.held = undefined;
    for (const w of waiting) w();
  }

  get heldAppends(): number {
    return this.held?.length ?? 0;
  }

  async append(batch: readonly { seq: number; bytes: Buffer; crc?: number }[]): Promise<void> {
    this.appendCalls++;
    for (const r of batch) {
      if (r.seq !== this.appendedSeq + 1) this.violation ??= `append of seq ${r.seq} after ${this.appendedSeq}`;
      if (r.crc !== undefined && r.crc !== crc32(r.bytes)) this.violation ??= `seq ${r.seq} came with CRC ${r.crc}, its bytes have ${crc32(r.bytes)}`;
      this.appendedSeq = r.seq;
    }
    if (this.failNext !== undefined) {
      const err = this.failNext;
      this.failNext = undefined;
      throw err;
    }
    if (this.held !== undefined) {
      const held = this.held;
      await new Promise<void>((resolve) => held.push(resolve));
    }
    for (const r of batch) {
      this.records.push(r.crc === undefined ? { seq: r.seq, bytes: Buffer.from(r.bytes) } : { seq: r.seq, bytes: Buffer.from(r.bytes), crc: r.crc });
      if (recordType(r.bytes) === 'checkpoint') this.checkpoint = { seq: r.seq, time: Buffer.from(r.bytes).readDoubleBE(2) };
      this.durable = r.seq;
    }
  }
}

export interface TestStream {
  token: string;
  journal: MemoryJournal;
  manifests: Map<string, Manifest>;
  manifest(volume: string): Promise<Manifest>;
  volumes?: ReadonlyMap<string, 'fs' | 'block'>;
}

export function testStream(token: string, journal = new MemoryJournal()): TestStream {
  const manifests = new Map<string, Manifest>();
  return {
    token,
    journal,
    manifests,
    manifest: (volume) => {
      const m = manifests.get(volume);
      return m === undefined ? Promise.reject(new Error(`no volume ${volume}`)) : Promise.resolve(m);
    },
  };
}

/** TLS to `port` on loopback, over a plain TCP socket first: the shape of TLS inside a tunnel. */
export async function tlsOverTcp(port: number, ca: string = identity.cert): Promise<Duplex> {
  const tcp = netConnect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    tcp.once('connect', resolve);
    tcp.once('error', reject);
  });
  const tls = tlsConnect({ socket: tcp, ca, servername: SERVERNAME, minVersion: 'TLSv1.3' });
  await new Promise<void>((resolve, reject) => {
    tls.once('secureConnect', resolve);
    tls.once('error', (err: Error) => {
      tcp.destroy();
      reject(err);
    });
  });
  return tls;
}

/** Polls until `check` is true (the tests' way to wait for state, not for time). */
export async function until(what: string, check: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
