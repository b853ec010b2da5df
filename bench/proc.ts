// What a process costs (for the benchmarks), read from /proc: CPU seconds (its own, and its waited-for children's) and
// peak resident memory.
import { readdirSync, readFileSync } from 'node:fs';

const TICK = 100; // USER_HZ on Linux

export function cpuSeconds(pid: number, children = false): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name: state(0) … utime(11) stime(12) cutime(13) cstime(14).
  const own = Number(f[11]) + Number(f[12]);
  const kids = Number(f[13]) + Number(f[14]);
  return (children ? own + kids : own) / TICK;
}

/**
 * CPU seconds of each of a process's threads, summed by kind of thread (its name without the
 * trailing number): MainThread, WorkerThread (worker_threads), V8Worker (V8's helpers: GC marking
 * and sweeping, compilation), libuv-worker (the thread pool: file I/O).
 */
export function threadCpuSeconds(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    let name: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1');
      name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'latin1').trim().replace(/[0-9]+$/, '');
    } catch {
      continue; // the thread ended
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(name, (out.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) / TICK);
  }
  return out;
}

/** What each kind of thread spent between two threadCpuSeconds readings (threads that ended are not counted). */
export function threadCpuSince(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, v] of after) out.set(name, Math.max(0, v - (before.get(name) ?? 0)));
  return out;
}

export function peakRssMiB(pid: number): number {
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(hwm?.[1] ?? 0) / 1024;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
