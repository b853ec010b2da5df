// Comparing a presented secret (a token) with the expected one, for every door that checks one:
// the ZCC's handshake, the replication receiver, the VRA's control API.
import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Equal secrets, in time that depends on neither their content nor their lengths: both are hashed
 * to 32 bytes first, then compared with timingSafeEqual. An empty expected secret matches nothing.
 */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b) && expected.length > 0;
}

/** What is stored of a secret that is only ever checked, never presented again (an export's token). */
export function secretDigest(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Whether `given` is the secret whose secretDigest is `digestHex`, in constant time. */
export function secretMatchesDigest(given: string, digestHex: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = Buffer.from(digestHex, 'hex');
  return b.length === a.length && timingSafeEqual(a, b);
}
