// The command line, up to the point where the plugin would connect: usage errors exit 2 with the
// usage text, before any kubeconfig is read.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Io } from './command.ts';
import { main } from './main.ts';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => (out += t), err: (t) => (err += t) };
  // A kubeconfig that does not exist: reaching it would be exit 1, not 2.
  const code = await main([...argv, '--kubeconfig', '/nonexistent/kubeconfig'], io);
  return { code, out, err };
}

describe('kubectl zcsp command line', () => {
  it('prints the usage on --help (exit 0) and without a command (exit 2)', async () => {
    const help = await run('--help');
    assert.equal(help.code, 0);
    assert.match(help.out, /^usage: kubectl zcsp <command> \[flags\]/);
    for (const c of ['status', 'checkpoints', 'tag', 'test', 'stop-test', 'failover', 'move', 'commit', 'rollback', 'sizing']) assert.match(help.out, new RegExp(`^  ${c} `, 'm'));
    const none = await run();
    assert.equal(none.code, 2);
    assert.match(none.err, /kubectl zcsp: missing the command\n\nusage: kubectl zcsp/);
  });

  it('prints a command\'s usage on --help', async () => {
    const r = await run('failover', '--help');
    assert.equal(r.code, 0);
    assert.match(r.out, /^usage: kubectl zcsp failover VPG \[--checkpoint CHECKPOINT\] \[--commit-policy POLICY\] \[--reverse\] \[--wait\] \[--timeout DURATION\] \[--output json\]/);
  });

  it('exits 2 with the command\'s usage on a bad command line', async () => {
    for (const [argv, message] of [
      [['frobnicate'], 'unknown command "frobnicate"'],
      [['test'], 'missing VPG'],
      [['test', 'web', 'extra'], 'unexpected argument "extra"'],
      [['tag', 'web'], 'missing NAME'],
      [['tag', 'web', 'a\u0001b'], 'the tag must not contain control characters'],
      [['test', 'web', '--commit-policy', 'manual'], 'test takes no --commit-policy flag'],
      [['move', 'web', '--checkpoint', 'latest'], 'move takes no --checkpoint flag'],
      [['failover', 'web', '--commit-policy', 'soon'], '--commit-policy: "soon" is not manual'],
      [['test', 'web', '--timeout', 'forever'], '--timeout: "forever" is not a duration'],
      [['test', 'web', '--wait=maybe'], '--wait: "maybe" is not true or false'],
      [['status', '-o', 'yaml'], '--output: "yaml" is not supported'],
      [['status', 'web', '-A'], '--all-namespaces lists VPGs'],
      [['test', 'web', '--bogus'], 'unknown flag --bogus'],
    ] as const) {
      const r = await run(...argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.ok(r.err.startsWith(`kubectl zcsp: ${message}`), `${argv.join(' ')}: ${r.err}`);
      assert.match(r.err, /\n\nusage: kubectl zcsp /);
    }
  });

  it('exits 1 when the kubeconfig cannot be loaded', async () => {
    const r = await run('status');
    assert.equal(r.code, 1);
    assert.match(r.err, /^error: cannot load the kubeconfig \/nonexistent\/kubeconfig: ENOENT/);
  });
});
