// rsync as the yardstick: a daemon on loopback (so the transfer crosses a real TCP connection, as
// ours does) and the client run the way people run it, `rsync -a --no-whole-file`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../test/cluster/net.ts';
import { cpuSeconds } from '../proc.ts';

export interface RsyncDaemon {
  port: number;
  pid: number;
  stop(): void;
}

export async function startRsyncDaemon(dir: string, modulePath: string): Promise<RsyncDaemon> {
  const port = await freePort();
  const conf = join(dir, 'rsyncd.conf');
  await mkdir(modulePath, { recursive: true });
  await writeFile(conf, `port = ${port}\naddress = 127.0.0.1\nuse chroot = false\npid file = ${join(dir, 'rsyncd.pid')}\n[dst]\npath = ${modulePath}\nread only = false\nuid = root\ngid = root\n`);
  const child: ChildProcess = spawn('rsync', ['--daemon', '--no-detach', `--config=${conf}`], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const probe = spawnSync('rsync', [`rsync://127.0.0.1:${port}/`], { encoding: 'utf8' });
    if (probe.status === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (child.pid === undefined) throw new Error('rsync daemon did not start');
  return { port, pid: child.pid, stop: () => child.kill('SIGTERM') };
}

export interface RsyncRun {
  seconds: number;
  cpuSeconds: number;
  bytesSent: number;
}

/** One client run; CPU counts the client and the daemon's connection process. */
export function runRsync(daemon: RsyncDaemon, source: string, extra: readonly string[] = []): RsyncRun {
  const cpu0 = cpuSeconds(process.pid, true) - cpuSeconds(process.pid) + cpuSeconds(daemon.pid, true);
  const t0 = performance.now();
  const r = spawnSync('rsync', ['-a', '--no-whole-file', '--stats', ...extra, `${source}/`, `rsync://127.0.0.1:${daemon.port}/dst/`], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`rsync failed (${String(r.status)}): ${r.stderr}`);
  const cpu1 = cpuSeconds(process.pid, true) - cpuSeconds(process.pid) + cpuSeconds(daemon.pid, true);
  const sent = /Total bytes sent: ([\d,.]+)/.exec(r.stdout)?.[1] ?? '0';
  return { seconds, cpuSeconds: cpu1 - cpu0, bytesSent: Number(sent.replace(/[,.]/g, '')) };
}
