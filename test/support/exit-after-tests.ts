// Loaded into every test process (`--import`, see package.json): once a test file's tests are
// done, its report gets two seconds to reach the runner, then the process exits if anything (a
// failed test's socket, server or timer) still holds it open, so a failure cannot hang the run.
//
// Not `--test-force-exit`: with it a file's process exits as soon as its last test ends, before
// all of its results have reached the runner, which then counts fewer tests than ran and still
// exits 0 (nodejs/node#64833). Measured here: two files of 39 and 207 tests reported 199 to 246
// across five runs. Without it, and with this, every run reports all of them.
import { createHook } from 'node:async_hooks';
import { after } from 'node:test';

const GRACE_MS = 2000;

// ZCSP_TEST_LEAKS=1: also print where each resource still open was created (costly: a stack per
// timer, socket and process; for finding a leak, not for every run).
const origins = new Map<number, string>();
const HOLDERS = new Set(['Timeout', 'Immediate', 'TCPWRAP', 'TCPSERVERWRAP', 'TLSWRAP', 'PIPEWRAP', 'PIPESERVERWRAP', 'PROCESSWRAP', 'FSEVENTWRAP', 'UDPWRAP', 'WORKER']);
if (process.env['ZCSP_TEST_LEAKS'] !== undefined && process.env['NODE_TEST_CONTEXT'] !== undefined) {
  createHook({
    init(id, type) {
      if (!HOLDERS.has(type)) return;
      // The frames of code of ours (or of a library) that created it; node's own are noise here.
      const frames = (new Error().stack ?? '').split('\n').filter((l) => l.includes('file://') || l.includes('node_modules'));
      origins.set(id, `${type}\n${frames.slice(0, 8).join('\n')}`);
    },
    destroy(id) {
      origins.delete(id);
    },
  }).enable();
}

// Only in the processes that run test files: the runner itself has no tests to wait for.
if (process.env['NODE_TEST_CONTEXT'] !== undefined) {
  after(() => {
    setTimeout(() => {
      // What holds it open, by kind (e.g. TCPSocketWrap, Timeout, ProcessWrap): where to look.
      // Less the pipes of its own stdout and stderr, which the runner reads.
      const open = process.getActiveResourcesInfo();
      for (let own = 0; own < 2; own++) {
        const at = open.indexOf('PipeWrap');
        if (at >= 0) open.splice(at, 1);
      }
      process.stderr.write(`${process.argv.at(-1) ?? 'a test file'}: still open ${GRACE_MS} ms after its tests ended (${open.join(', ') || 'nothing listed'}); exiting\n`);
      for (const origin of origins.values()) process.stderr.write(`  open since:\n${origin}\n`);
      process.exit();
    }, GRACE_MS).unref();
  });
}
