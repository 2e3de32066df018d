import type { Command } from 'commander';
import { globalOptions } from '../context.js';

/** boards [list] | create SLUG | rm SLUG: their code is loaded only when used. */
export function registerBoardsCommands(program: Command): void {
  const boards = program.command('boards').description('the named boards under $KANBAN_HOME/boards, and the default board');

  boards
    .command('list', { isDefault: true })
    .description('every board: slug, tasks, size, last change (* the one the options point at)')
    .action(async (_opts: unknown, command: Command) => {
      const { boardsListCommand } = await import('../boards-command.js');
      await boardsListCommand(globalOptions(command));
    });

  boards
    .command('create')
    .description('make a named board ($KANBAN_HOME/boards/SLUG/board.db), or name a board on a PostgreSQL server (--url)')
    .argument('<slug>', 'a-z, 0-9, _ and -, starting with a letter or digit')
    .option('--url <postgres-url>', 'the board is on this PostgreSQL server, shared by several hosts: made there unless it exists')
    .action(async (slug: string, opts: { url?: string }, command: Command) => {
      const { boardsCreateCommand } = await import('../boards-command.js');
      await boardsCreateCommand(globalOptions(command), slug, opts.url);
    });

  boards
    .command('rm')
    .description('remove a named board with its logs and workspaces (asks for the slug on a terminal)')
    .argument('<slug>')
    .option('--yes', 'no question: needed when stdin is not a terminal')
    .action(async (slug: string, opts: { yes?: boolean }, command: Command) => {
      const { boardsRmCommand } = await import('../boards-command.js');
      await boardsRmCommand(globalOptions(command), slug, opts.yes ?? false);
    });
}
