import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IpPool } from './ip-pool.ts';

describe('IpPool', () => {
  it('gives the node .1 and pods .2 upwards', () => {
    const pool = new IpPool('127.0.41');
    assert.equal(pool.nodeIp, '127.0.41.1');
    assert.equal(pool.allocate('a'), '127.0.41.2');
    assert.equal(pool.allocate('b'), '127.0.41.3');
  });

  it('is idempotent per owner', () => {
    const pool = new IpPool('127.0.41');
    assert.equal(pool.allocate('a'), pool.allocate('a'));
    assert.equal(pool.size, 1);
  });

  it('does not reuse a freed address at once (round-robin)', () => {
    const pool = new IpPool('127.0.41');
    pool.allocate('a');
    pool.release('a');
    assert.equal(pool.ipOf('a'), undefined);
    assert.equal(pool.allocate('b'), '127.0.41.3');
  });

  it('takes a preferred address when it is free and in the subnet', () => {
    const pool = new IpPool('127.0.41');
    assert.equal(pool.allocate('a', '127.0.41.77'), '127.0.41.77');
    assert.equal(pool.allocate('b', '127.0.41.77'), '127.0.41.2');
    assert.equal(pool.allocate('c', '127.0.42.9'), '127.0.41.3');
    assert.equal(pool.allocate('d', '127.0.41.1'), '127.0.41.4', 'the node address is never a pod address');
  });

  it('wraps around and fails only when all 253 addresses are taken', () => {
    const pool = new IpPool('127.0.9');
    const seen = new Set<string>();
    for (let i = 0; i < 253; i++) seen.add(pool.allocate(`p${i}`));
    assert.equal(seen.size, 253);
    assert.throws(() => pool.allocate('one-too-many'), /no free pod IP/);
    pool.release('p100');
    assert.equal(pool.allocate('late'), '127.0.9.102');
  });

  it('rejects a malformed subnet', () => {
    assert.throws(() => new IpPool('127.0.41.0'), /three octets/);
    assert.throws(() => new IpPool('127.0.300'), /three octets/);
  });
});
