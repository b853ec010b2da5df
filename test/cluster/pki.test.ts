import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPki } from './pki.ts';

const x509 = (file: string, ...what: string[]): string =>
  execFileSync('openssl', ['x509', '-in', file, '-noout', ...what], { encoding: 'utf8' });

describe('createPki', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pki-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const pki = await createPki(dir);

  it('signs a serving certificate for the loopback and in-cluster names', () => {
    const text = x509(pki.serving.certFile, '-ext', 'subjectAltName');
    assert.match(text, /IP Address:127\.0\.0\.1/);
    assert.match(text, /DNS:kubernetes\.default\.svc/);
    execFileSync('openssl', ['verify', '-CAfile', pki.ca.certFile, pki.serving.certFile]);
  });

  it('issues client certificates whose CN is the user and O the groups', async () => {
    const user = await pki.issueClient('alice', ['tenant-a:admins', 'zcsp:tenants']);
    const subject = x509(user.certFile, '-subject', '-nameopt', 'RFC2253');
    assert.match(subject, /CN=alice/);
    assert.match(subject, /O=tenant-a:admins/);
    assert.match(subject, /O=zcsp:tenants/);
    assert.match(x509(user.certFile, '-ext', 'extendedKeyUsage'), /TLS Web Client Authentication/);
    execFileSync('openssl', ['verify', '-CAfile', pki.ca.certFile, user.certFile]);
  });

  it('signs the API server\'s client certificate towards kubelets, and a kubelet\'s serving certificate for its node IP', async () => {
    assert.match(x509(pki.kubeletClient.certFile, '-subject', '-nameopt', 'RFC2253'), /CN=kube-apiserver-kubelet-client/);
    assert.match(x509(pki.kubeletClient.certFile, '-ext', 'extendedKeyUsage'), /TLS Web Client Authentication/);
    const kubelet = await pki.issueKubeletServing('sim-a', '127.0.41.1');
    assert.match(x509(kubelet.certFile, '-ext', 'subjectAltName'), /IP Address:127\.0\.41\.1/);
    assert.match(x509(kubelet.certFile, '-ext', 'extendedKeyUsage'), /TLS Web Server Authentication/);
    execFileSync('openssl', ['verify', '-CAfile', pki.ca.certFile, kubelet.certFile]);
    await assert.rejects(pki.issueKubeletServing('sim-a', 'example.com'), /not an IPv4 address/);
  });

  it('refuses names that would change the subject', async () => {
    await assert.rejects(pki.issueClient('eve/O=system:masters'), /may not contain/);
  });
});
