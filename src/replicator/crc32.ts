// CRC-32 (zlib's, the one node:zlib's crc32 computes) of a concatenation from the CRCs of its
// pieces. A RECORDS frame's CRC covers every record, and the journal keeps each record's own CRC:
// with this, the receiver reads each record once, for its own CRC, and checks the frame's from
// those, instead of reading every byte a second time (a fifth of its main thread in a delta).
//
// The arithmetic is zlib's crc32_combine: CRCs are polynomials over GF(2) modulo the CRC
// polynomial (bit-reflected, x^0 in the top bit), and appending n zero bytes to a message
// multiplies its CRC by x^(8n).

const POLY = 0xedb88320;
const X0 = 0x80000000;

/** a·b modulo the CRC polynomial. */
function multModP(a: number, b: number): number {
  let m = X0;
  let p = 0;
  for (;;) {
    if ((a & m) !== 0) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}

/** x^(2^k) modulo the polynomial, k = 0..31 (2^31 bits; larger exponents wrap, as in zlib). */
const X2N: Uint32Array = (() => {
  const t = new Uint32Array(32);
  let p = X0 >>> 1; // x^1
  t[0] = p;
  for (let k = 1; k < 32; k++) t[k] = p = multModP(p, p);
  return t;
})();

/** x^(8·n) modulo the polynomial: what a CRC is multiplied by when n bytes follow. */
function shiftBytes(n: number): number {
  let p = X0;
  let k = 3;
  // n may exceed 2^32: halve with arithmetic, not bit operators.
  while (n > 0) {
    if (n % 2 === 1) p = multModP(X2N[k & 31] ?? 0, p);
    n = Math.floor(n / 2);
    k++;
  }
  return p;
}

// Most records of a stream have one of a few lengths (a whole block and its header): their shift
// is looked up, not recomputed (~20 products each). A small table, cleared when it fills.
const shifts = new Map<number, number>();
const MAX_SHIFTS = 256;

function shiftFor(n: number): number {
  let s = shifts.get(n);
  if (s === undefined) {
    if (shifts.size >= MAX_SHIFTS) shifts.clear();
    s = shiftBytes(n);
    shifts.set(n, s);
  }
  return s;
}

/**
 * The CRC-32 of A followed by B, from crc(A), crc(B) and B's length in bytes: equal to
 * `crc32(B, crc32(A))`.
 */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  if (!Number.isSafeInteger(lengthB) || lengthB < 0) throw new RangeError(`crc32Combine: length ${lengthB} is not a byte count`);
  if (lengthB === 0) return crcA >>> 0;
  return (multModP(shiftFor(lengthB), crcA >>> 0) ^ crcB) >>> 0;
}
