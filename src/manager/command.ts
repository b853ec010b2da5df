import type { Command } from '../cli/command.ts';
import { MANAGER_HELP, parseManagerFlags } from './options.ts';

export const managerCommand: Command = {
  name: 'manager',
  summary: 'run the operator (Zorg, ServiceProfile, Site and ZCC controllers)',
  async run(args) {
    const flags = parseManagerFlags(args);
    if (flags === undefined) {
      process.stdout.write(MANAGER_HELP + '\n');
      return 0;
    }
    // Loaded only here: the client library and every controller are the manager's weight, not
    // that of the other roles sharing this executable.
    const { runManager } = await import('./run.ts');
    return runManager(flags);
  },
};
