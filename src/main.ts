#!/usr/bin/env node
// zcsp: one executable, one subcommand per role (manager, vra, zcc, restore, console, …).
// First: a stop signal ends a process that is still starting (PID 1 of a container would ignore
// it), and the thread pool is sized from the environment when something first uses it. The
// commands are imported only then: static imports would all be loaded before either ran.
import './stop-signals.ts';
import './thread-pool.ts';

const { run } = await import('./cli/run.ts');
process.exitCode = await run(process.argv.slice(2));
