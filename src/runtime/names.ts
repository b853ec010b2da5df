// Deterministic child names: the same owner always gets the same child, so a restarted operator
// finds (instead of duplicating) what it created. Too long a name is cut and made unique again
// with a hash of the whole.
import { createHash } from 'node:crypto';

/** A DNS label (63 characters) by default: what Services, Pods' hostnames and labels need. */
export function childName(parts: readonly string[], maxLength = 63): string {
  const full = parts.filter((p) => p !== '').join('-').toLowerCase();
  if (full.length <= maxLength) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 8);
  const head = full.slice(0, maxLength - hash.length - 1).replace(/[-.]+$/, '');
  return `${head}-${hash}`;
}
