// The local cluster's PKI, made with openssl: one CA that signs the API server's serving
// certificate and every client certificate (admin, controller-manager, scheduler, test users),
// plus the service-account signing key. EC P-256 keys: fast to generate, so minting a user per
// test costs milliseconds.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CertPair {
  certFile: string;
  keyFile: string;
}

export interface Pki {
  dir: string;
  ca: CertPair;
  serving: CertPair;
  serviceAccountKey: { privateFile: string; publicFile: string };
  /** The API server's client certificate towards kubelets (exec), which they check. */
  kubeletClient: CertPair;
  /** A client certificate: CN is the user name, each O a group (how Kubernetes reads x509 identities). */
  issueClient(name: string, groups?: readonly string[]): Promise<CertPair>;
  /** A kubelet's serving certificate for its node IP, which the API server checks. */
  issueKubeletServing(node: string, ip: string): Promise<CertPair>;
}

/** CN of the API server's client certificate towards kubelets, as kubeadm names it. */
export const KUBELET_CLIENT_CN = 'kube-apiserver-kubelet-client';

const CLIENT_EXTENSIONS = 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n';

async function openssl(args: readonly string[]): Promise<void> {
  try {
    await run('openssl', [...args]);
  } catch (err: unknown) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`openssl ${args[0] ?? ''} failed: ${(e.stderr ?? e.message).trim()}`, { cause: err });
  }
}

const ecKey = (file: string): Promise<void> => openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', file]);

/** Names in an openssl subject must not carry its separators. */
function subjectPart(value: string): string {
  if (/[/=+,\\\n]/.test(value)) throw new Error(`certificate subject part may not contain / = + , \\ or newline: "${value}"`);
  return value;
}

async function sign(dir: string, ca: CertPair, base: string, subject: string, extensions: string): Promise<CertPair> {
  const keyFile = join(dir, `${base}.key`);
  const csrFile = join(dir, `${base}.csr`);
  const certFile = join(dir, `${base}.crt`);
  const extFile = join(dir, `${base}.ext`);
  await ecKey(keyFile);
  await openssl(['req', '-new', '-key', keyFile, '-subj', subject, '-out', csrFile]);
  await writeFile(extFile, extensions);
  await openssl([
    // A random serial per certificate: -CAcreateserial shares one serial file, which races when
    // several certificates are signed at once.
    'x509', '-req', '-in', csrFile, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', `0x${randomBytes(16).toString('hex')}`,
    '-days', '365', '-sha256', '-extfile', extFile, '-out', certFile,
  ]);
  return { certFile, keyFile };
}

export async function createPki(dir: string): Promise<Pki> {
  await mkdir(join(dir, 'users'), { recursive: true });
  const ca: CertPair = { certFile: join(dir, 'ca.crt'), keyFile: join(dir, 'ca.key') };
  await ecKey(ca.keyFile);
  await openssl([
    'req', '-x509', '-new', '-key', ca.keyFile, '-subj', '/CN=zcsp-local-cluster-ca', '-days', '365', '-sha256',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-out', ca.certFile,
  ]);
  const serving = await sign(dir, ca, 'apiserver', '/CN=kube-apiserver', [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local',
    '',
  ].join('\n'));
  const kubeletClient = await sign(dir, ca, 'apiserver-kubelet-client', `/O=system:masters/CN=${KUBELET_CLIENT_CN}`, CLIENT_EXTENSIONS);
  const serviceAccountKey = { privateFile: join(dir, 'sa.key'), publicFile: join(dir, 'sa.pub') };
  await ecKey(serviceAccountKey.privateFile);
  await openssl(['ec', '-in', serviceAccountKey.privateFile, '-pubout', '-out', serviceAccountKey.publicFile]);
  let serial = 0;
  return {
    dir,
    ca,
    serving,
    serviceAccountKey,
    kubeletClient,
    async issueClient(name, groups = []) {
      const subject = [...groups.map((g) => `/O=${subjectPart(g)}`), `/CN=${subjectPart(name)}`].join('');
      const base = `users/${(serial++).toString().padStart(4, '0')}-${name.replace(/[^A-Za-z0-9._-]/g, '_')}`;
      return sign(dir, ca, base, subject, CLIENT_EXTENSIONS);
    },
    async issueKubeletServing(node, ip) {
      if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) throw new Error(`kubelet serving certificate: "${ip}" is not an IPv4 address`);
      return sign(dir, ca, `kubelet-${subjectPart(node).replace(/[^A-Za-z0-9._-]/g, '_')}`, `/O=system:nodes/CN=system:node:${node}`, [
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth',
        `subjectAltName=IP:${ip},DNS:${node}`,
        '',
      ].join('\n'));
    },
  };
}

/** Base64 of a PEM file, as kubeconfig's *-data fields want it. */
export async function pemData(file: string): Promise<string> {
  return (await readFile(file)).toString('base64');
}
