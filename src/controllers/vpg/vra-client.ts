// The operator's side of a VRA's control API (src/vra/control-api.ts): HTTPS to the VRA pod's
// control port with the operator's bearer token.
//
// Trust: a VRA makes its own certificate on first start and keeps it on its volume. The operator
// learns it from the VRA (trust on first use, per pod) and from then on verifies every connection
// to that pod against exactly that certificate; the certificate is also what the source VRA pins
// for replication. A pod that shows another certificate than the one first seen is refused.
import { request } from 'node:https';
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';

export interface VraEndpoint {
  /** The VRA pod's uid: the pin is per pod. */
  uid: string;
  host: string;
  port: number;
}

export interface VraIdentity {
  node: string;
  site: string;
  cert: string;
  fingerprint: string;
  servername: string;
  replicationPort: number;
}

export class VraApiError extends Error {
  override readonly name = 'VraApiError';
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const TIMEOUT_MS = 5000;

export class VraClient {
  readonly #token: string;
  /** pod uid → identity first seen. */
  readonly #pins = new Map<string, VraIdentity>();

  constructor(token: string) {
    this.#token = token;
  }

  /** The VRA's identity (first use: fetched and pinned; then from the pin). */
  async identity(vra: VraEndpoint): Promise<VraIdentity> {
    const pinned = this.#pins.get(vra.uid);
    if (pinned !== undefined) return pinned;
    const { body: answer, peerCert } = await this.#call(vra, 'GET', '/v1/identity', undefined, undefined);
    const body = answer as VraIdentity;
    // The certificate the VRA names must be the one it presented.
    if (peerCert === undefined || !new X509Certificate(body.cert).raw.equals(peerCert)) {
      throw new VraApiError(0, 'IdentityMismatch', `the VRA at ${vra.host}:${vra.port} presented another certificate than the one it names`);
    }
    this.#pins.set(vra.uid, body);
    return body;
  }

  /** Forgets pins of pods that no longer exist. */
  retain(uids: ReadonlySet<string>): void {
    for (const uid of this.#pins.keys()) if (!uids.has(uid)) this.#pins.delete(uid);
  }

  async get<T>(vra: VraEndpoint, path: string): Promise<T> {
    const id = await this.identity(vra);
    return (await this.#call(vra, 'GET', path, undefined, id)).body as T;
  }

  async put<T>(vra: VraEndpoint, path: string, body: unknown): Promise<T> {
    const id = await this.identity(vra);
    return (await this.#call(vra, 'PUT', path, body, id)).body as T;
  }

  /** `timeoutMs`: requests the VRA answers only when done (an export copies a volume; a tagged checkpoint waits until durable). */
  async post<T>(vra: VraEndpoint, path: string, body: unknown, timeoutMs = TIMEOUT_MS): Promise<T> {
    const id = await this.identity(vra);
    return (await this.#call(vra, 'POST', path, body, id, timeoutMs)).body as T;
  }

  async delete(vra: VraEndpoint, path: string): Promise<unknown> {
    const id = await this.identity(vra);
    return (await this.#call(vra, 'DELETE', path, undefined, id)).body;
  }

  #call(vra: VraEndpoint, method: string, path: string, body: unknown, pinned: VraIdentity | undefined, timeoutMs = TIMEOUT_MS): Promise<{ body: unknown; peerCert: Buffer | undefined }> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request({
        host: vra.host,
        port: vra.port,
        method,
        path,
        headers: {
          authorization: `Bearer ${this.#token}`,
          ...(payload !== undefined && { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
        // First use: any certificate, checked against what the VRA says afterwards; then only it.
        ...(pinned === undefined ? { rejectUnauthorized: false } : { ca: pinned.cert, servername: pinned.servername }),
        agent: false,
        timeout: timeoutMs,
      }, (res) => {
        const chunks: Buffer[] = [];
        const peerCert = (res.socket as TLSSocket).getPeerCertificate().raw as Buffer | undefined;
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            reject(new VraApiError(res.statusCode ?? 0, 'BadResponse', `${method} ${path}: the VRA answered ${res.statusCode ?? '?'} with no JSON`));
            return;
          }
          if ((res.statusCode ?? 500) >= 300) {
            const e = parsed as { code?: string; message?: string };
            reject(new VraApiError(res.statusCode ?? 0, e.code ?? 'Error', `${method} ${path}: ${e.message ?? `status ${res.statusCode ?? '?'}`}`));
            return;
          }
          resolve({ body: parsed, peerCert });
        });
      });
      req.on('timeout', () => req.destroy(new VraApiError(0, 'Timeout', `${method} ${path}: no answer from the VRA at ${vra.host}:${vra.port} within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }
}

/** Whether an error says the VRA has no such stream (as opposed to being unreachable). */
export function isStreamMissing(err: unknown): boolean {
  return err instanceof VraApiError && err.status === 404;
}
