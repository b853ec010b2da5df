import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { selfSignedCertificate } from './self-signed.ts';

const run = promisify(execFile);

describe('selfSignedCertificate', () => {
  const now = new Date('2026-03-01T12:00:00Z');
  const pair = selfSignedCertificate({
    commonName: 'zcc-acme.zcsp-system.svc',
    dnsNames: ['zcc-acme', 'zcc-acme.zcsp-system.svc'],
    ipAddresses: ['127.0.0.1', 'fd00::1'],
    days: 30,
    now,
  });

  it('is a parseable v3 certificate with the names, validity and key asked for', () => {
    const x = new X509Certificate(pair.cert);
    assert.equal(x.subject, 'CN=zcc-acme.zcsp-system.svc');
    assert.equal(x.issuer, x.subject);
    assert.equal(x.subjectAltName, 'DNS:zcc-acme, DNS:zcc-acme.zcsp-system.svc, IP Address:127.0.0.1, IP Address:FD00:0:0:0:0:0:0:1');
    assert.equal(new Date(x.validFrom).getTime(), now.getTime() - 3600_000);
    assert.equal(new Date(x.validTo).getTime(), now.getTime() + 30 * 86_400_000);
    assert.equal(x.ca, false);
    assert.ok(x.verify(x.publicKey), 'self-signed: its own key verifies it');
    assert.ok(x.checkPrivateKey(createPrivateKey(pair.key)));
    assert.equal(x.checkHost('zcc-acme.zcsp-system.svc'), 'zcc-acme.zcsp-system.svc');
    assert.equal(x.checkHost('other.example'), undefined);
    assert.equal(x.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  });

  it('gets a fresh key and serial every time', () => {
    const again = selfSignedCertificate({ commonName: 'x' });
    const a = new X509Certificate(pair.cert);
    const b = new X509Certificate(again.cert);
    assert.notEqual(a.serialNumber, b.serialNumber);
    assert.notEqual(a.fingerprint256, b.fingerprint256);
    assert.equal(a.serialNumber.length, 32, '16 bytes');
  });

  it('passes openssl\'s own parser and strict verification', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'self-signed-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'tls.crt');
    writeFileSync(file, pair.cert);
    const text = (await run('openssl', ['x509', '-in', file, '-noout', '-text'])).stdout;
    assert.match(text, /Version: 3/);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
    assert.match(text, /TLS Web Server Authentication/);
    assert.match(text, /Digital Signature/);
    assert.match(text, /Subject Key Identifier/);
    const verified = await run('openssl', ['verify', '-x509_strict', '-attime', String(Math.floor(now.getTime() / 1000) + 60), '-CAfile', file, file]);
    assert.match(verified.stdout, /OK/);
  });

  it('serves TLS to a client that pins it and checks the name', async () => {
    const fresh = selfSignedCertificate({ commonName: 'zcc-acme.zcsp-system.svc', dnsNames: ['zcc-acme.zcsp-system.svc'] });
    const server = createServer({ cert: fresh.cert, key: fresh.key, minVersion: 'TLSv1.3' }, (s) => s.end('hi'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const talk = (servername: string): Promise<string> => new Promise((resolve, reject) => {
      const s: TLSSocket = connect({ host: '127.0.0.1', port, ca: fresh.cert, servername }, () => {
        let body = '';
        s.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve(body));
      });
      s.once('error', reject);
    });
    try {
      assert.equal(await talk('zcc-acme.zcsp-system.svc'), 'hi');
      await assert.rejects(talk('someone-else.example'), /does not match|altnames/i);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
