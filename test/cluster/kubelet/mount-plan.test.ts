import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { posix } from 'node:path';
import { planMounts, resolveInHost, toBwrapArgs, type FsView, type MountRequest, type SandboxOp } from './mount-plan.ts';

/** A host filesystem from a table: "dir", "dir:1777", "file", or "->target" for a symlink. */
function fakeFs(table: Record<string, string>): FsView {
  const entries = new Map(Object.entries({ '/': 'dir', ...table }));
  return {
    lstat(path) {
      const spec = entries.get(path);
      if (spec === undefined) return undefined;
      if (spec.startsWith('->')) return { type: 'symlink', mode: 0o777 };
      const [type, mode] = spec.split(':') as ['dir' | 'file', string | undefined];
      return { type, mode: mode === undefined ? (type === 'dir' ? 0o755 : 0o644) : parseInt(mode, 8) };
    },
    readlink(path) {
      const spec = entries.get(path);
      if (spec?.startsWith('->') !== true) throw new Error(`EINVAL: not a symlink: ${path}`);
      return spec.slice(2);
    },
    readdir(path) {
      return [...entries.keys()].filter((p) => p !== '/' && posix.dirname(p) === path).map((p) => posix.basename(p));
    },
  };
}

// The shape of a Debian host.
const host = fakeFs({
  '/bin': '->usr/bin',
  '/usr': 'dir',
  '/usr/bin': 'dir',
  '/etc': 'dir',
  '/etc/hostname': 'file',
  '/etc/hosts': 'file',
  '/var': 'dir',
  '/var/run': '->/run',
  '/var/lib': 'dir',
  '/run': 'dir',
  '/run/lock': 'dir:1777',
  '/run/user': 'dir',
  '/tmp': 'dir:1777',
  '/work': 'dir',
  '/work/cluster': 'dir',
  '/proc': 'dir',
  '/dev': 'dir',
  '/sys': 'dir',
  '/.dockerenv': 'file',
});

const dirMount = (containerPath: string, source: string, readOnly = false): MountRequest => ({ containerPath, source, readOnly, kind: 'dir' });
const fileMount = (containerPath: string, source: string): MountRequest => ({ containerPath, source, readOnly: false, kind: 'file' });

function destinations(ops: readonly SandboxOp[], op: SandboxOp['op']): string[] {
  return ops.filter((o) => o.op === op).map((o) => o.dest);
}

describe('planMounts', () => {
  it('binds every top-level entry individually, keeps symlinks, and gets a private /proc and /dev', () => {
    const ops = planMounts([], host);
    assert.deepEqual(ops.slice(0, 2), [
      { op: 'proc', dest: '/proc' },
      { op: 'dev', dest: '/dev' },
    ]);
    assert.deepEqual(destinations(ops, 'bind'), ['/.dockerenv', '/etc', '/run', '/sys', '/tmp', '/usr', '/var', '/work']);
    assert.deepEqual(ops.find((o) => o.dest === '/bin'), { op: 'symlink', target: 'usr/bin', dest: '/bin' });
    assert.deepEqual(destinations(ops, 'dir'), []);
  });

  it('creates a missing top-level mountpoint in the tmpfs, not on the host', () => {
    const ops = planMounts([dirMount('/data', '/work/cluster/nodes/a/root/data')], host);
    assert.deepEqual(ops.at(-1), { op: 'bind', src: '/work/cluster/nodes/a/root/data', dest: '/data', readOnly: false });
    assert.deepEqual(destinations(ops, 'dir'), [], 'bubblewrap makes the mountpoint itself, in the tmpfs root');
  });

  it('recurses into the ancestors of a missing mountpoint, resolving /var/run to /run', () => {
    const sa = '/var/run/secrets/kubernetes.io/serviceaccount';
    const ops = planMounts([dirMount(sa, '/k/pods/x/volumes/sa', true)], host);
    // /run is recreated (same mode) and its entries bound one by one; /var stays a plain bind
    // because the mountpoint is reached through the /var/run → /run symlink.
    const run = ops.findIndex((o) => o.dest === '/run');
    assert.deepEqual(ops[run], { op: 'dir', dest: '/run', mode: 0o755 });
    assert.deepEqual(ops.slice(run + 1, run + 3), [
      { op: 'bind', src: '/run/lock', dest: '/run/lock', readOnly: false },
      { op: 'bind', src: '/run/user', dest: '/run/user', readOnly: false },
    ]);
    assert.ok(ops.some((o) => o.op === 'bind' && o.dest === '/var'));
    assert.deepEqual(ops.slice(-3), [
      { op: 'dir', dest: '/run/secrets', mode: 0o755 },
      { op: 'dir', dest: '/run/secrets/kubernetes.io', mode: 0o755 },
      { op: 'bind', src: '/k/pods/x/volumes/sa', dest: '/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
    ]);
  });

  it('keeps the mode of a recreated folder (/tmp stays 1777)', () => {
    const ops = planMounts([dirMount('/tmp/app/cache', '/k/cache')], host);
    assert.deepEqual(ops.find((o) => o.dest === '/tmp'), { op: 'dir', dest: '/tmp', mode: 0o1777 });
    assert.deepEqual(toBwrapArgs(ops.filter((o) => o.dest === '/tmp')), ['--perms', '1777', '--dir', '/tmp']);
  });

  it('binds over an existing file or folder without recreating its parent', () => {
    const ops = planMounts([fileMount('/etc/hostname', '/k/hostname'), dirMount('/work/cluster', '/k/other')], host);
    assert.ok(ops.some((o) => o.op === 'bind' && o.dest === '/etc' && o.src === '/etc'));
    assert.deepEqual(destinations(ops, 'dir'), []);
    assert.deepEqual(ops.slice(-2).map((o) => o.dest), ['/etc/hostname', '/work/cluster']);
  });

  it('replaces an entry of the wrong type (a folder mounted where the host has a file)', () => {
    const ops = planMounts([dirMount('/etc/hosts', '/k/hostsdir')], host);
    assert.deepEqual(ops.find((o) => o.dest === '/etc'), { op: 'dir', dest: '/etc', mode: 0o755 });
    assert.ok(!ops.some((o) => o.op === 'bind' && o.src === '/etc/hosts'));
    assert.ok(ops.some((o) => o.op === 'bind' && o.src === '/etc/hostname'));
    assert.deepEqual(ops.at(-1), { op: 'bind', src: '/k/hostsdir', dest: '/etc/hosts', readOnly: false });
  });

  it('puts a mount inside another mount into that volume, shallow mounts first', () => {
    const ops = planMounts([dirMount('/data/sub/deep', '/k/b'), dirMount('/data', '/k/a')], host);
    assert.deepEqual(ops.slice(-2), [
      { op: 'bind', src: '/k/a', dest: '/data', readOnly: false },
      { op: 'bind', src: '/k/b', dest: '/data/sub/deep', readOnly: false },
    ]);
    assert.deepEqual(destinations(ops, 'dir'), [], 'the volume holds /data/sub, nothing is made in the tmpfs');
  });

  it('mounts under the private /dev without touching the host', () => {
    const ops = planMounts([fileMount('/dev/termination-log', '/k/term')], host);
    assert.deepEqual(destinations(ops, 'dir'), []);
    assert.ok(ops.some((o) => o.op === 'bind' && o.dest === '/sys'), '/ is listed as usual');
    assert.deepEqual(ops.at(-1), { op: 'bind', src: '/k/term', dest: '/dev/termination-log', readOnly: false });
  });

  it('refuses mounts that would hide the sandbox essentials', () => {
    assert.throws(() => planMounts([dirMount('/', '/k')], host), /cannot mount/);
    assert.throws(() => planMounts([dirMount('/proc', '/k')], host), /cannot mount/);
    assert.throws(() => planMounts([dirMount('/proc/sys/x', '/k')], host), /under \/proc/);
    assert.throws(() => planMounts([dirMount('data', '/k')], host), /absolute/);
  });
});

describe('resolveInHost', () => {
  it('follows absolute and relative symlinks and stops at the first missing component', () => {
    const fs = fakeFs({ '/a': '->b/c', '/b': 'dir', '/b/c': 'dir', '/b/c/up': '->../..', '/loop': '->/loop' });
    assert.equal(resolveInHost('/a/x/y', fs), '/b/c/x/y');
    assert.equal(resolveInHost('/a/up/b', fs), '/b');
    assert.equal(resolveInHost('/var/run/secrets', host), '/run/secrets');
    assert.equal(resolveInHost('/bin/sh', host), '/usr/bin/sh');
    assert.throws(() => resolveInHost('/loop/x', fs), /too many levels/);
  });

  it('does not resolve below an earlier mount target', () => {
    assert.equal(resolveInHost('/var/run/x', host, ['/var']), '/var/run/x');
  });
});

describe('toBwrapArgs', () => {
  it('spells each operation as bubblewrap options', () => {
    assert.deepEqual(
      toBwrapArgs([
        { op: 'proc', dest: '/proc' },
        { op: 'dev', dest: '/dev' },
        { op: 'symlink', target: 'usr/bin', dest: '/bin' },
        { op: 'dir', dest: '/run', mode: 0o755 },
        { op: 'bind', src: '/a', dest: '/b', readOnly: false },
        { op: 'bind', src: '/c', dest: '/d', readOnly: true },
      ]),
      ['--proc', '/proc', '--dev', '/dev', '--symlink', 'usr/bin', '/bin', '--perms', '0755', '--dir', '/run', '--bind', '/a', '/b', '--ro-bind', '/c', '/d'],
    );
  });
});
