#!/usr/bin/env node
// zcsp: one executable, one subcommand per role (manager, vra, zcc, restore, console, …).
// First: the thread pool is sized from the environment when something first uses it.
import './thread-pool.ts';
import { run } from './cli/run.ts';

process.exitCode = await run(process.argv.slice(2));
