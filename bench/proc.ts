// What a process costs (for the benchmarks), read from /proc: CPU seconds (its own, and its waited-for children's) and
// peak resident memory.
import { readFileSync } from 'node:fs';

const TICK = 100; // USER_HZ on Linux

export function cpuSeconds(pid: number, children = false): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name: state(0) … utime(11) stime(12) cutime(13) cstime(14).
  const own = Number(f[11]) + Number(f[12]);
  const kids = Number(f[13]) + Number(f[14]);
  return (children ? own + kids : own) / TICK;
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
