// The one request of a restore: GET the export from the recovery VRA's control port over HTTPS,
// trusting exactly the VRA certificate given (pinned: it is the only CA, and it is self-signed),
// presenting the export's own token. Refusals become messages a person can act on.
import { request } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { EXPORT_CONTENT_TYPE } from './format.ts';
import { RestoreError } from './target.ts';

export interface FetchOptions {
  url: URL;
  token: string;
  /** The VRA's certificate (PEM). */
  ca: string;
  servername: string;
  /** Give up when the VRA sends nothing for this long (connecting included). */
  idleMs: number;
}

const TLS_TRUST_CODES = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_SIGNATURE_FAILURE', 'ERR_TLS_CERT_ALTNAME_INVALID']);

/** The export's response, status 200 and the export media type; anything else is a RestoreError. */
export function fetchExport(o: FetchOptions): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(o.url, {
      method: 'GET',
      ca: o.ca,
      servername: o.servername,
      minVersion: 'TLSv1.2',
      agent: false,
      headers: { authorization: `Bearer ${o.token}`, accept: EXPORT_CONTENT_TYPE },
    }, (res) => {
      // From here the caller watches the body (and names where in it the VRA went quiet).
      req.off('timeout', quiet);
      if (res.statusCode === 200 && res.headers['content-type'] === EXPORT_CONTENT_TYPE) {
        resolve(res);
        return;
      }
      void refusal(res).then(reject, reject);
    });
    const quiet = (): void => {
      req.destroy(new RestoreError(`the VRA at ${o.url.host} sent nothing for ${o.idleMs / 1000} s`));
    };
    req.setTimeout(o.idleMs, quiet);
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof RestoreError) reject(err);
      else if (err.code !== undefined && TLS_TRUST_CODES.has(err.code)) {
        reject(new RestoreError(`TLS: the server at ${o.url.host} is not the VRA whose certificate is in --ca-file, or --servername is wrong (${err.code}: ${err.message})`));
      } else reject(new RestoreError(`cannot reach the VRA at ${o.url.host}: ${err.message}`));
    });
    req.end();
  });
}

async function refusal(res: IncomingMessage): Promise<RestoreError> {
  const chunks: Buffer[] = [];
  for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
  const text = Buffer.concat(chunks).toString('utf8').slice(0, 4096);
  let message = text;
  try {
    const body = JSON.parse(text) as { message?: unknown };
    if (typeof body.message === 'string') message = body.message;
  } catch {
    // not JSON: the text as it is
  }
  const status = res.statusCode ?? 0;
  if (status === 401) return new RestoreError(`the VRA refused the export token (HTTP 401: ${message})`);
  if (status === 404 || status === 410) return new RestoreError(`the VRA has no such export (HTTP ${status}: ${message})`);
  if (status === 200) return new RestoreError(`the answer is not an export stream (content type ${String(res.headers['content-type'])}): is --from the export's URL?`);
  return new RestoreError(`the VRA refused the export (HTTP ${status}: ${message})`);
}
