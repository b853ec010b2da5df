// The VRA's TLS identity: made once, kept on its volume. Sources pin the certificate (the operator
// reads it from GET /v1/identity and hands it to them), so it must survive restarts; a new one is
// made only when the files are missing.
import { X509Certificate, createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { writeFileDurably } from '../replicator/durable.ts';
import { join } from 'node:path';
import { selfSignedCertificate } from '../tls/self-signed.ts';

export interface Identity {
  cert: string;
  key: string;
  /** SHA-256 of the DER certificate, hex: what operators and logs compare. */
  fingerprint: string;
  /** The DNS name in the certificate, which sources give as servername. */
  servername: string;
}

/** The name every VRA certificate carries: sources pin the certificate, not a CA, so one name does. */
export const VRA_SERVERNAME = 'vra.zcsp.io';

export async function loadOrCreateIdentity(dataDir: string, node: string): Promise<Identity> {
  const dir = join(dataDir, 'tls');
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  let cert: string;
  let key: string;
  try {
    [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    ({ cert, key } = selfSignedCertificate({ commonName: `vra ${node}`.slice(0, 64), dnsNames: [VRA_SERVERNAME] }));
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // Key first, each file atomically: a crash leaves either no certificate or a complete pair.
    await writeFileDurably(keyFile, key, 0o600);
    await writeFileDurably(certFile, cert, 0o644);
  }
  return { cert, key, fingerprint: fingerprint(cert), servername: VRA_SERVERNAME };
}

export function fingerprint(certPem: string): string {
  return createHash('sha256').update(new X509Certificate(certPem).raw).digest('hex');
}
