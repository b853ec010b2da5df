// The little the kubelet needs from /proc: the children of a process (this kernel has no
// /proc/<pid>/task/<pid>/children), and a check that a pid still is who we think it is.
import { readdirSync, readFileSync } from 'node:fs';

/** Parent pid of a process, or undefined when it is gone. */
export function parentPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name (2nd field) may hold spaces and parentheses: parse after the last ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    if (state === 'Z' || state === 'X') return undefined;
    return Number(fields[1]);
  } catch {
    return undefined;
  }
}

export function childPids(ppid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (parentPid(pid) === ppid) found.push(pid);
  }
  return found;
}

/** The argv of a process as one NUL-separated string, or undefined when it is gone. */
export function cmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1');
  } catch {
    return undefined;
  }
}
