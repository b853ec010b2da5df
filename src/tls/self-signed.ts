// A self-signed X.509 serving certificate (ECDSA P-256, SHA-256) made with node:crypto alone: the
// operator's image needs no openssl binary and no X.509 library. node:crypto makes the key and the
// signature; this file writes the DER of the certificate around them (RFC 5280), which for one
// fixed shape of certificate is a few ASN.1 constructors.
//
// Used for a ZCC's TLS identity. Clients pin it: they get the certificate itself as their CA
// (ca.crt = tls.crt) and check the name they expect (servername), so no CA is involved.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

export interface SelfSignedOptions {
  /** The subject's common name. */
  commonName: string;
  /** DNS names in subjectAltName (what clients check). */
  dnsNames?: readonly string[];
  /** IP addresses in subjectAltName. */
  ipAddresses?: readonly string[];
  /** Validity in days from now (it starts an hour ago, for clock skew); default 1826 (5 years). */
  days?: number;
  /** For tests; default now. */
  now?: Date;
}

export interface SelfSigned {
  /** PEM "CERTIFICATE". */
  cert: string;
  /** PEM PKCS#8 "PRIVATE KEY". */
  key: string;
}

// ---- DER ----

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const sequence = (...items: Buffer[]): Buffer => tlv(0x30, ...items);
const set = (...items: Buffer[]): Buffer => tlv(0x31, ...items);
const octetString = (b: Buffer): Buffer => tlv(0x04, b);
const bitString = (b: Buffer): Buffer => tlv(0x03, Buffer.from([0]), b);
const utf8String = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
const boolean = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0]));
/** [n] EXPLICIT. */
const explicit = (n: number, inner: Buffer): Buffer => tlv(0xa0 | n, inner);

/** A non-negative INTEGER from big-endian bytes: minimal, with a 0 byte where the top bit is set. */
function unsignedInteger(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const trimmed = bytes.subarray(i);
  return tlv(0x02, (trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const [a = 0, b = 0, ...rest] = parts;
  const out: number[] = [a * 40 + b];
  for (const p of rest) {
    const chunk: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime through 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
function time(d: Date): Buffer {
  const iso = d.toISOString(); // 2026-01-02T03:04:05.678Z
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(digits.slice(2), 'ascii')) : tlv(0x18, Buffer.from(digits, 'ascii'));
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  if (isIP(ip) !== 6) throw new TypeError(`not an IP address: ${ip}`);
  const [head = '', tail] = ip.split('::');
  const groups = (s: string | undefined): number[] => (s === undefined || s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
};

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
}

/** The BIT STRING content of the SubjectPublicKeyInfo: what the key identifier hashes (RFC 5280 4.2.1.2). */
function publicKeyBits(spki: Buffer): Buffer {
  // SEQUENCE { SEQUENCE algorithm, BIT STRING key }: the key is the last element.
  const readLength = (at: number): { len: number; next: number } => {
    const first = spki[at] ?? 0;
    if (first < 0x80) return { len: first, next: at + 1 };
    let len = 0;
    for (let i = 1; i <= (first & 0x7f); i++) len = len * 256 + (spki[at + i] ?? 0);
    return { len, next: at + 1 + (first & 0x7f) };
  };
  const outer = readLength(1);
  const alg = readLength(outer.next + 1);
  const keyStart = alg.next + alg.len;
  const key = readLength(keyStart + 1);
  return spki.subarray(key.next + 1, key.next + key.len);
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** A new key and a self-signed serving certificate for it. */
export function selfSignedCertificate(options: SelfSignedOptions): SelfSigned {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { cert: certificateFor(privateKey, publicKey, options), key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

function certificateFor(privateKey: KeyObject, publicKey: KeyObject, options: SelfSignedOptions): string {
  const now = options.now ?? new Date();
  const days = options.days ?? 1826;
  if (!(days > 0)) throw new RangeError('days must be positive');
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40; // positive, and 16 bytes long
  const name = sequence(set(sequence(oid(OID.commonName), utf8String(options.commonName))));
  const algorithm = sequence(oid(OID.ecdsaWithSha256));
  const altNames = [
    ...(options.dnsNames ?? []).map((d) => tlv(0x82, Buffer.from(d, 'ascii'))),
    ...(options.ipAddresses ?? []).map((ip) => tlv(0x87, ipBytes(ip))),
  ];
  const extensions = [
    extension(OID.basicConstraints, true, sequence()),
    // digitalSignature (bit 0): what an ECDHE_ECDSA / TLS 1.3 server key does.
    extension(OID.keyUsage, true, tlv(0x03, Buffer.from([7, 0x80]))),
    extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth))),
    extension(OID.subjectKeyIdentifier, false, octetString(createHash('sha1').update(publicKeyBits(spki)).digest())),
    ...(altNames.length > 0 ? [extension(OID.subjectAltName, false, sequence(...altNames))] : []),
  ];
  const tbs = sequence(
    explicit(0, unsignedInteger(Buffer.from([2]))), // v3
    unsignedInteger(serial),
    algorithm,
    name,
    sequence(time(new Date(now.getTime() - 3600_000)), time(new Date(now.getTime() + days * 86_400_000))),
    name,
    spki,
    explicit(3, sequence(...extensions)),
  );
  const signature = sign('sha256', tbs, privateKey); // DER ECDSA-Sig-Value
  return pem('CERTIFICATE', sequence(tbs, algorithm, bitString(signature)));
}
