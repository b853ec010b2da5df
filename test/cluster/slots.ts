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

/** The control plane's ports of a slot, on 127.0.0.1. */
export interface ControlPlanePorts {
  etcd: number;
  apiserver: number;
  controllerManager: number;
  scheduler: number;
}

export function portList(p: ControlPlanePorts): number[] {
  return [p.etcd, p.apiserver, p.controllerManager, p.scheduler];
}

const PORTS_PER_SLOT = 4;
const PORT_BASE = 20_000;
const PORT_SPAN = (LAST_SLOT - FIRST_SLOT + 1) * PORTS_PER_SLOT;

/** The kernel's ephemeral port range: ports it hands out for `listen(0)` and outgoing connections. */
export function ephemeralRange(file = '/proc/sys/net/ipv4/ip_local_port_range'): [number, number] {
  try {
    const [low, high] = readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
    if (low !== undefined && high !== undefined && Number.isInteger(low) && Number.isInteger(high)) return [low, high];
  } catch {
    // not Linux, or no procfs: Linux's default range
  }
  return [32_768, 60_999];
}

/**
 * Fixed ports for the control plane of the cluster in `slot`, outside the ephemeral range. A
 * port picked by binding port 0 and closing it could be handed to an outgoing connection of any
 * process before the component bound it ("address already in use"); these never are, and the
 * slot's lock keeps other local clusters off them.
 */
export function controlPlanePorts(slot: number, ephemeral: [number, number] = ephemeralRange()): ControlPlanePorts {
  if (!Number.isInteger(slot) || slot < FIRST_SLOT || slot > LAST_SLOT) throw new Error(`slot out of range: ${slot}`);
  const [low, high] = ephemeral;
  const base = PORT_BASE + PORT_SPAN <= low || PORT_BASE > high ? PORT_BASE
    : low - PORT_SPAN >= 1024 ? low - PORT_SPAN
    : high + 1;
  if (base + PORT_SPAN > 65_536) throw new Error(`no room for local-cluster ports outside the ephemeral range ${low}-${high}`);
  const first = base + (slot - FIRST_SLOT) * PORTS_PER_SLOT;
  return { etcd: first, apiserver: first + 1, controllerManager: first + 2, scheduler: first + 3 };
}
