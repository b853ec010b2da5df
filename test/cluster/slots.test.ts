import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { claimSlot, controlPlanePorts, ephemeralRange, podSubnet, portList } from './slots.ts';
import { portFree } from './net.ts';

const root = mkdtempSync(join(tmpdir(), 'zcsp-slots-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('claimSlot', () => {
  it('gives distinct slots to clusters side by side and frees them', () => {
    const dir = mkdtempSync(join(root, 'slots-'));
    const a = claimSlot(process.pid, dir);
    const b = claimSlot(process.pid, dir);
    assert.notEqual(a.slot, b.slot);
    assert.equal(readdirSync(dir).length, 2);
    a.release();
    b.release();
    assert.equal(readdirSync(dir).length, 0);
  });
  it('takes over a slot whose owner is dead', () => {
    const dir = mkdtempSync(join(root, 'slots-'));
    // Fill every slot with a dead owner (pid 2^22+1 is above any default pid_max in use here).
    for (let s = 10; s <= 250; s++) writeFileSync(join(dir, `${s}.lock`), '4194305');
    const slot = claimSlot(process.pid, dir);
    assert.ok(slot.slot >= 10 && slot.slot <= 250);
    slot.release();
  });
  it('fails clearly when every slot is owned by a live process', () => {
    const dir = mkdtempSync(join(root, 'slots-'));
    for (let s = 10; s <= 250; s++) writeFileSync(join(dir, `${s}.lock`), String(process.pid));
    assert.throws(() => claimSlot(process.pid, dir), /no free local-cluster slot/);
  });
});

describe('podSubnet', () => {
  it('puts each node of a slot in its own /24 of 127/8', () => {
    assert.equal(podSubnet(42, 0), '127.42.1');
    assert.equal(podSubnet(42, 3), '127.42.4');
    assert.throws(() => podSubnet(42, 255), /out of range/);
  });
});

describe('controlPlanePorts', () => {
  const all = (range: [number, number]) => {
    const ports: number[] = [];
    for (let s = 10; s <= 250; s++) ports.push(...portList(controlPlanePorts(s, range)));
    return ports;
  };
  it('gives every slot four ports of its own, none in the ephemeral range', () => {
    for (const range of [[32_768, 60_999], [1024, 20_100], [21_000, 65_535], ephemeralRange()] as [number, number][]) {
      const ports = all(range);
      assert.equal(new Set(ports).size, 241 * 4, `distinct for ${range.join('-')}`);
      for (const p of ports) assert.ok((p < range[0] || p > range[1]) && p >= 1024 && p <= 65_535, `${p} outside ${range.join('-')}`);
    }
  });
  it('says so when the ephemeral range leaves no room', () => {
    assert.throws(() => controlPlanePorts(10, [1024, 65_000]), /no room for local-cluster ports outside the ephemeral range 1024-65000/);
    assert.throws(() => controlPlanePorts(9), /slot out of range: 9/);
  });
  it('reads the range from procfs, and falls back to the default without it', () => {
    const file = join(root, 'range');
    writeFileSync(file, '40000\t50000\n');
    assert.deepEqual(ephemeralRange(file), [40_000, 50_000]);
    assert.deepEqual(ephemeralRange(join(root, 'missing')), [32_768, 60_999]);
  });
});

describe('portFree', () => {
  it('tells a port something listens on from a free one', async () => {
    const srv = createServer();
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const port = (srv.address() as { port: number }).port;
    try {
      assert.equal(await portFree(port), false);
    } finally {
      await new Promise((resolve) => srv.close(resolve));
    }
    assert.equal(await portFree(port), true);
  });
});
