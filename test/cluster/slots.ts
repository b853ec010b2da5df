// Each running local cluster takes a "slot": the second octet of its pods' loopback addresses
// (127.<slot>.<node>.<pod>). Slots are claimed with exclusive lock files naming the owner's pid,
// so clusters started side by side (a test suite next to `cluster:up`) never share addresses;
// a lock whose owner is gone is taken over.
import { mkdirSync, openSync, closeSync, writeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const FIRST_SLOT = 10; // 127.0.0.0/16 stays free for the host's own loopback services
const LAST_SLOT = 250;

export interface Slot {
  readonly slot: number;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err: unknown) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function claimSlot(ownerPid = process.pid, dir = join(tmpdir(), 'zcsp-cluster-slots')): Slot {
  mkdirSync(dir, { recursive: true });
  const start = FIRST_SLOT + Math.floor(Math.random() * (LAST_SLOT - FIRST_SLOT + 1));
  for (let i = 0; i <= LAST_SLOT - FIRST_SLOT; i++) {
    const slot = FIRST_SLOT + ((start - FIRST_SLOT + i) % (LAST_SLOT - FIRST_SLOT + 1));
    const file = join(dir, `${slot}.lock`);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(file, 'wx');
        writeSync(fd, String(ownerPid));
        closeSync(fd);
        return { slot, release: () => rmSync(file, { force: true }) };
      } catch (err: unknown) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const owner = Number(readFileSync(file, 'utf8').trim());
        if (Number.isInteger(owner) && owner > 0 && alive(owner)) break;
        rmSync(file, { force: true }); // stale: its owner died without releasing it
      }
    }
  }
  throw new Error(`no free local-cluster slot in ${dir} (${LAST_SLOT - FIRST_SLOT + 1} clusters running?)`);
}

/** Pod subnet (first three octets) of a node of the cluster in `slot`. */
export function podSubnet(slot: number, nodeIndex: number): string {
  if (nodeIndex < 0 || nodeIndex > 254) throw new Error(`node index out of range: ${nodeIndex}`);
  return `127.${slot}.${nodeIndex + 1}`;
}
