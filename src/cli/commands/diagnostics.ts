import type { Command } from 'commander';
import { globalOptions } from '../context.js';

export function registerDiagnosticsCommand(program: Command): void {
  program
    .command('diagnostics')
    .description('what needs a human, most severe first, with the command that fixes each')
    .option('--all', 'every finding in full (a rule with many is otherwise one group)')
    .action(async (opts: { all?: boolean }, command: Command) => {
      const { diagnosticsCommand } = await import('../configured.js');
      await diagnosticsCommand(globalOptions(command), opts.all ?? false);
    });
}
