import { Argument, type Command } from 'commander';
import { writeOut } from '../stdio.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

export function registerCompletionCommand(program: Command): void {
  program
    .command('completion')
    .description('print a completion script for bash, zsh or fish, generated from the commands themselves')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(SHELLS))
    .action(async (shell: Shell, _opts: unknown, command: Command) => {
      const { completionScript } = await import('../completion.js');
      let root = command;
      while (root.parent) root = root.parent;
      writeOut(completionScript(shell, root));
    });
}
