import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { BLOCK_SIZE, HASH_BYTES, blockHash, blockHashInto, hashBlocksInto, volumeDigest, type DigestEntry } from './hash.ts';
import { randomBytes, rng } from './capture/workload.test-support.ts';

// Reference values from the xxHash project's own command line tool (`xxhsum -H2`, XXH3-128, seed 0).
const KNOWN: [string, Buffer, string][] = [
  ['nothing', Buffer.alloc(0), '99aa06d3014798d86001c324468d497f'],
  ['"abc"', Buffer.from('abc'), '06b05ab6733a618578af5f94892f3950'],
  ['64 KiB of (i * 7919) & 0xff', pattern(BLOCK_SIZE), '970c4b900a605bc351b06302275859e4'],
];

function pattern(n: number): Buffer {
  const data = Buffer.alloc(n);
  for (let i = 0; i < n; i++) data[i] = (i * 7919) & 0xff;
  return data;
}

describe('blockHash', () => {
  it('is XXH3-128 with seed 0, big-endian as xxhsum prints it', () => {
    for (const [what, data, hex] of KNOWN) assert.equal(blockHash(data).toString('hex'), hex, what);
  });

  it('writes in place what blockHash returns, and hashes a run of blocks block by block', () => {
    const data = pattern(BLOCK_SIZE * 2 + 100);
    const out = Buffer.alloc(3 * HASH_BYTES + 2);
    hashBlocksInto(data, out.subarray(1));
    for (let b = 0; b < 3; b++) {
      const block = data.subarray(b * BLOCK_SIZE, (b + 1) * BLOCK_SIZE);
      assert.deepEqual(out.subarray(1 + b * HASH_BYTES, 1 + (b + 1) * HASH_BYTES), blockHash(block));
    }
    assert.equal(out[0], 0);
    assert.equal(out.at(-1), 0);
    const one = Buffer.alloc(HASH_BYTES);
    blockHashInto(data.subarray(0, 5), one, 0);
    assert.deepEqual(one, blockHash(data.subarray(0, 5)));
  });

  it('tells blocks apart that differ in one bit, wherever it is', () => {
    const base = Buffer.alloc(BLOCK_SIZE, 0x5a);
    const seen = new Set([blockHash(base).toString('hex')]);
    for (const at of [0, 1, 4095, 32768, BLOCK_SIZE - 1]) {
      for (const bit of [0, 7]) {
        const changed = Buffer.from(base);
        changed[at] = (changed[at] ?? 0) ^ (1 << bit);
        seen.add(blockHash(changed).toString('hex'));
      }
    }
    assert.equal(seen.size, 11);
  });
});

/** volumeDigest as first written (and as every replica's recorded digest was computed): the reference. */
function referenceVolumeDigest(entries: Iterable<DigestEntry>): Buffer {
  const sorted = [...entries].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  const h = createHash('sha256');
  for (const e of sorted) {
    h.update(e.path);
    h.update('\0');
    if (e.type === 'dir') h.update(`d${e.mode.toString(8)}\0`);
    else if (e.type === 'file') {
      h.update(`f${e.mode.toString(8)}\0`);
      h.update(e.digest);
    } else {
      h.update('l');
      h.update(e.target);
      h.update('\0');
    }
  }
  return h.digest();
}

describe('volumeDigest', () => {
  // Characters whose UTF-16 order differs from their UTF-8 byte order (astral against U+E000 and
  // up), plain ASCII and other scripts. No lone surrogates: a volume's paths are UTF-8 (the scan
  // skips names that are not), and one would encode the same as U+FFFD.
  const alphabet = ['a', 'b', 'Z', '0', '.', '-', '/', 'é', 'ж', '中', '\uE000', '\uFFFD', '\uFF21', '😀', '𝄞'];
  function randomEntries(seed: number, count: number, pathLength: number): DigestEntry[] {
    const r = rng(seed);
    const seen = new Set<string>();
    const out: DigestEntry[] = [];
    while (out.length < count) {
      let path = '';
      const n = 1 + Math.floor(r() * pathLength);
      for (let i = 0; i < n; i++) path += alphabet[Math.floor(r() * alphabet.length)] ?? '';
      if (seen.has(path)) continue;
      seen.add(path);
      const kind = r();
      if (kind < 0.6) out.push({ path, type: 'file', mode: Math.floor(r() * 0o7777), digest: randomBytes(r, 32) });
      else if (kind < 0.8) out.push({ path, type: 'dir', mode: 0o755 });
      else out.push({ path, type: 'symlink', target: path.split('').reverse().join('') });
    }
    return out;
  }

  it('hashes the same bytes as its reference, whatever the characters and the order given', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const entries = randomEntries(seed, 1 + seed * 20, 12);
      const digest = volumeDigest(entries);
      assert.deepEqual(digest, referenceVolumeDigest(entries), `seed ${seed}`);
      assert.deepEqual(volumeDigest([...entries].reverse()), digest, `seed ${seed}, reversed`);
    }
  });

  it('hashes paths, targets and digests longer than its feed buffer the same way', () => {
    const entries: DigestEntry[] = [
      { path: 'x'.repeat(70_000), type: 'file', mode: 0o644, digest: randomBytes(rng(7), 100_000) },
      { path: '中'.repeat(30_000), type: 'symlink', target: '😀'.repeat(20_000) },
      ...randomEntries(8, 3000, 40),
    ];
    assert.deepEqual(volumeDigest(entries), referenceVolumeDigest(entries));
    assert.deepEqual(volumeDigest([]), referenceVolumeDigest([]));
  });

  it('tells trees apart that differ in one mode, one target or one digest byte', () => {
    const entries = randomEntries(9, 200, 10);
    const base = volumeDigest(entries);
    const file = entries.findIndex((e) => e.type === 'file');
    const link = entries.findIndex((e) => e.type === 'symlink');
    const f = entries[file];
    const l = entries[link];
    assert.ok(f?.type === 'file' && l?.type === 'symlink');
    const flipped = Buffer.from(f.digest);
    flipped[31] = (flipped[31] ?? 0) ^ 1;
    for (const changed of [{ ...f, mode: f.mode ^ 1 }, { ...f, digest: flipped }, { ...l, target: `${l.target}x` }]) {
      const other = entries.map((e) => (e.path === changed.path ? changed : e));
      assert.notDeepEqual(volumeDigest(other), base);
    }
  });
});
