import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimSlot, podSubnet } from './slots.ts';

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
