import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { BLOCK_SIZE, HASH_BYTES } from '../hash.ts';
import type { Manifest, ManifestEntry } from '../manifest.ts';
import { decodeManifest, encodeManifest, MANIFEST_CHUNK_BYTES, manifestChunks } from './manifest-codec.ts';

function fsManifest(): Manifest {
  const entries = new Map<string, ManifestEntry>([
    ['etc', { type: 'dir', mode: 0o755 }],
    ['etc/app.conf', { type: 'file', id: 12, mode: 0o644, size: BLOCK_SIZE * 2 + 1, hashes: randomBytes(3 * HASH_BYTES) }],
    ['etc/empty', { type: 'file', id: 2 ** 48 - 1, mode: 0o600, size: 0, hashes: Buffer.alloc(0) }],
    ['etc/link', { type: 'symlink', target: '../var/ünï' }],
  ]);
  return { kind: 'fs', entries };
}

function bad(buf: Buffer, pattern: RegExp): void {
  assert.throws(() => decodeManifest(buf), (err: unknown) => {
    assert.ok(err instanceof Error);
    assert.match(err.message, /^BadMessage: manifest /);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('manifest codec', () => {
  it('round-trips fs and block manifests', () => {
    const fs = fsManifest();
    assert.deepEqual(decodeManifest(encodeManifest(fs)), fs);
    const block: Manifest = { kind: 'block', size: BLOCK_SIZE * 5 - 7, hashes: randomBytes(5 * HASH_BYTES) };
    assert.deepEqual(decodeManifest(encodeManifest(block)), block);
    const empty: Manifest = { kind: 'fs', entries: new Map() };
    assert.deepEqual(decodeManifest(encodeManifest(empty)), empty);
  });

  it('cuts into chunks that join back', () => {
    const block: Manifest = { kind: 'block', size: BLOCK_SIZE * 300_000, hashes: randomBytes(300_000 * HASH_BYTES) };
    const encoded = encodeManifest(block);
    const chunks = manifestChunks(encoded);
    assert.equal(chunks.length, Math.ceil(encoded.length / MANIFEST_CHUNK_BYTES));
    assert.deepEqual(decodeManifest(Buffer.concat(chunks)), block);
  });

  it('refuses hashes that do not match the size, on both sides', () => {
    assert.throws(() => encodeManifest({ kind: 'block', size: BLOCK_SIZE + 1, hashes: Buffer.alloc(16) }), /has 16 bytes of hashes, 32 for size 65537/);
    const enc = encodeManifest({ kind: 'block', size: BLOCK_SIZE, hashes: Buffer.alloc(16) });
    bad(enc.subarray(0, enc.length - 1), /ends inside hashes of a 65536-byte block volume/);
    bad(Buffer.concat([enc, Buffer.from([0])]), /1 bytes left over/);
  });

  it('refuses paths that escape, repeats, unknown types and kinds', () => {
    const one = (path: string, type = 1, rest: number[] = [0, 0, 1, 0xed]): Buffer => {
      const p = Buffer.from(path);
      return Buffer.concat([Buffer.from([1, 0, 0, 0, 1, p.length >> 8, p.length & 0xff]), p, Buffer.from([type, ...rest])]);
    };
    bad(one('../etc/passwd'), /entry 0 path "\.\.\/etc\/passwd" has a "\.\." segment/);
    bad(one('/abs'), /is absolute/);
    bad(one('a', 7), /entry 0 \("a"\) has type 7/);
    bad(one('a', 1, [0, 1, 0, 0]), /entry 0 mode 65536 is not a permission mode/);
    const two = encodeManifest({ kind: 'fs', entries: new Map([['a', { type: 'dir', mode: 0o755 }], ['b', { type: 'dir', mode: 0o755 }]]) });
    two.write('a', 5 + 8 + 2); // the second path becomes "a" as well
    bad(two, /entry 1 repeats path "a"/);
    bad(Buffer.from([3]), /kind 3 is neither fs \(1\) nor block \(2\)/);
    bad(Buffer.alloc(0), /ends inside kind/);
  });
});
