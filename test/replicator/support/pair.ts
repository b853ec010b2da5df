// Two real VRA processes and one VPG stream between them: a filesystem volume and a block image on
// the "protected node", journal and replica on the "recovery node". Optionally the source reaches
// the target through a real ZCC proxy, or through any TCP hop the test puts in between (a fault
// proxy), given as `route(targetPort) → {host, port}`.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selfSignedCertificate } from '../../../src/tls/self-signed.ts';
import { startZccProxy, type ZccProxy } from '../../../src/zcc/proxy.ts';
import { findClusterProcesses } from '../../cluster/process.ts';
import { snapshotImage, snapshotTree, type Snapshot, type SnapshotEntry } from './snapshot.ts';
import { VraProcess } from './vra-process.ts';

export const STREAM = 'vpg-web-0001';
/** What a snapshot says of the image when the VPG has no block volume. */
const NO_IMAGE = { size: 0, sha: '' };

export interface PairOptions {
  /** Bytes of the block image at the start. */
  imageBytes?: number;
  checkpointIntervalMs?: number;
  bufferBytes?: number;
  stallMs?: number;
  viaZcc?: boolean;
  /** Put a hop between source and target (after the ZCC, when there is one). */
  route?: (target: { host: string; port: number }) => Promise<{ host: string; port: number }> | { host: string; port: number };
  sourceExtra?: Record<string, unknown>;
  targetExtra?: Record<string, unknown>;
  /** Which volumes the VPG has; default both. */
  volumes?: readonly ('files' | 'disk')[];
  /** Fills the protected volume before the stream is configured. */
  prepare?: (pair: Pair) => Promise<void>;
}

export interface SourceSnapshot {
  files: Snapshot;
  disk: { size: number; sha: string };
}

export class Pair {
  readonly dir: string;
  readonly clusterId: string;
  readonly source: VraProcess;
  readonly target: VraProcess;
  readonly volume: string;
  readonly image: string;
  readonly restoreRoot: string;
  readonly streamToken = randomBytes(24).toString('base64url');
  readonly options: PairOptions;
  zcc: ZccProxy | undefined;
  #restores = 0;

  private constructor(dir: string, options: PairOptions) {
    this.dir = dir;
    this.options = options;
    this.clusterId = `replicator-test-${randomUUID()}`;
    this.volume = join(dir, 'protected', 'files');
    this.image = join(dir, 'protected', 'disk.img');
    this.restoreRoot = join(dir, 'restore');
    const logDir = join(dir, 'logs');
    this.source = new VraProcess({ name: 'source', dataDir: join(dir, 'source-vra', 'data'), clusterId: this.clusterId, logDir });
    this.target = new VraProcess({ name: 'target', dataDir: join(dir, 'target-vra', 'data'), clusterId: this.clusterId, logDir, materialiseRoots: [this.restoreRoot] });
  }

  static async start(options: PairOptions = {}): Promise<Pair> {
    const pair = new Pair(await mkdtemp(join(tmpdir(), 'zcsp-pair-')), options);
    try {
      await mkdir(pair.volume, { recursive: true });
      await mkdir(pair.restoreRoot, { recursive: true });
      await writeRandomFile(pair.image, options.imageBytes ?? 2 * 1024 * 1024);
      await options.prepare?.(pair);
      await Promise.all([pair.source.start(), pair.target.start()]);
      await pair.configureTarget();
      await pair.configureSource();
    } catch (err: unknown) {
      await pair.close();
      throw err;
    }
    return pair;
  }

  #volumes(): readonly ('files' | 'disk')[] {
    return this.options.volumes ?? ['files', 'disk'];
  }

  targetConfig(): Record<string, unknown> {
    return {
      role: 'target',
      vpg: { namespace: 'acme-prod', name: 'web' },
      token: this.streamToken,
      volumes: this.#volumes().map((v) => ({ name: v, kind: v === 'files' ? 'fs' : 'block' })),
      historyHours: 24,
      ...this.options.targetExtra,
    };
  }

  async configureTarget(): Promise<void> {
    await this.target.ok('PUT', `/v1/streams/${STREAM}`, this.targetConfig());
  }

  async sourceConfig(): Promise<Record<string, unknown>> {
    let address = { host: '127.0.0.1', port: this.target.replicationPort };
    if (this.options.route !== undefined) address = await this.options.route(address);
    let zcc: Record<string, unknown> | undefined;
    if (this.options.viaZcc === true) {
      const { cert, key } = selfSignedCertificate({ commonName: 'zcc-acme', dnsNames: ['zcc-acme.zcsp-system.svc'] });
      await this.zcc?.close({ graceMs: 0 });
      const upstream = address;
      this.zcc = await startZccProxy({
        host: '127.0.0.1', port: 0, cert, key, zorg: 'acme', token: 'zcc-token',
        resolve: () => ({ ok: true, host: upstream.host, port: upstream.port, pod: 'vra-dr-target' }),
      });
      zcc = { ca: cert, servername: 'zcc-acme.zcsp-system.svc', zorg: 'acme', token: 'zcc-token', target: { site: 'dr', node: 'target' } };
      address = { host: '127.0.0.1', port: this.zcc.port };
    }
    return {
      role: 'source',
      vpg: { namespace: 'acme-prod', name: 'web' },
      token: this.streamToken,
      volumes: this.#volumes().map((v) => (v === 'files' ? { name: v, kind: 'fs', path: this.volume } : { name: v, kind: 'block', path: this.image })),
      peer: { address, ca: this.target.cert, servername: 'vra.zcsp.io', ...(zcc !== undefined && { zcc }) },
      checkpointIntervalMs: this.options.checkpointIntervalMs ?? 1000,
      ...(this.options.bufferBytes !== undefined && { bufferBytes: this.options.bufferBytes }),
      ...(this.options.stallMs !== undefined && { stallMs: this.options.stallMs }),
      ...this.options.sourceExtra,
    };
  }

  async configureSource(): Promise<void> {
    await this.source.ok('PUT', `/v1/streams/${STREAM}`, await this.sourceConfig());
  }

  /** A tagged checkpoint of the source as it is now; resolves once the target has it on disk. */
  async checkpoint(tag: string): Promise<number> {
    const { seq } = await this.source.ok<{ seq: number }>('POST', `/v1/streams/${STREAM}/checkpoints`, { tag });
    return seq;
  }

  snapshot(): SourceSnapshot {
    const has = this.#volumes();
    return { files: has.includes('files') ? snapshotTree(this.volume) : new Map<string, SnapshotEntry>(), disk: has.includes('disk') ? snapshotImage(this.image) : NO_IMAGE };
  }

  /** Materialises a checkpoint on the target into fresh folders; returns what they hold. */
  async materialise(seq: number): Promise<SourceSnapshot & { paths: { files: string; disk: string } }> {
    const paths = await this.materialiseOnly(seq);
    const has = this.#volumes();
    return { files: has.includes('files') ? snapshotTree(paths.files) : new Map<string, SnapshotEntry>(), disk: has.includes('disk') ? snapshotImage(paths.disk) : NO_IMAGE, paths };
  }

  /** Materialises without reading the result back (benchmarks time this). */
  async materialiseOnly(seq: number): Promise<{ files: string; disk: string }> {
    const at = join(this.restoreRoot, `r${++this.#restores}`);
    const paths = { files: join(at, 'files'), disk: join(at, 'disk.img') };
    await mkdir(at, { recursive: true });
    const targets = Object.fromEntries(this.#volumes().map((v) => [v, paths[v]]));
    await this.target.ok('POST', `/v1/streams/${STREAM}/materialise`, { checkpoint: seq, targets });
    return paths;
  }

  async sourceStatus(): Promise<SourceStatusView> {
    return (await this.source.ok<{ status: SourceStatusView }>('GET', `/v1/streams/${STREAM}`)).status;
  }

  async targetStatus(): Promise<Record<string, unknown>> {
    return (await this.target.ok<{ status: Record<string, unknown> }>('GET', `/v1/streams/${STREAM}`)).status;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.source.stop(), this.target.stop(), this.zcc?.close({ graceMs: 0 })]);
    const left = findClusterProcesses(this.clusterId);
    for (const p of left) process.kill(p.pid, 'SIGKILL');
    if (process.env['ZCSP_KEEP_TEST_DIRS'] === undefined) await rm(this.dir, { recursive: true, force: true });
  }
}

/** Incompressible bytes, written in chunks (an image may be larger than a Buffer should be). */
export async function writeRandomFile(path: string, bytes: number): Promise<void> {
  const fh = await open(path, 'w');
  try {
    for (let done = 0; done < bytes;) {
      const n = Math.min(64 * 1024 * 1024, bytes - done);
      await fh.write(randomBytes(n), 0, n, done);
      done += n;
    }
  } finally {
    await fh.close();
  }
}

export interface SourceStatusView {
  state: string;
  connected: boolean;
  lastError?: string;
  rpoSeconds?: number;
  bufferedBytes: number;
  bufferLimitBytes: number;
  wireBytes: number;
  rawBytes: number;
  reconnects: number;
  incompletePasses: number;
  progress?: { bytesDone: number; bytesTotal: number; percent: number };
}

export async function waitUntil<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err: unknown) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last !== undefined ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
