import type { Command } from 'commander';
import { globalOptions } from '../context.js';

export function registerDiagnosticsCommand(program: Command): void {
  program
    .command('diagnostics')
    .description('what needs a human, most severe first, with the command that fixes each')
    .action(async (_opts: unknown, command: Command) => {
      const { diagnosticsCommand } = await import('../configured.js');
      diagnosticsCommand(globalOptions(command));
    });
}
