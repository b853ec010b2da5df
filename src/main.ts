#!/usr/bin/env node
// zcsp: one executable, one subcommand per role (manager, vra, zcc, restore, console, …).
import { run } from './cli/run.ts';

process.exitCode = await run(process.argv.slice(2));
