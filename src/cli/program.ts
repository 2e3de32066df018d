import { Command } from 'commander';
import { registerBoardCommands } from './commands/board.js';
import { registerBoardsCommands } from './commands/boards.js';
import { registerCompletionCommand } from './commands/completion.js';
import { registerConfigCommands } from './commands/config.js';
import { registerDiagnosticsCommand } from './commands/diagnostics.js';
import { registerDispatchCommands } from './commands/dispatch.js';
import { registerEventsCommand } from './commands/events.js';
import { registerGcCommand } from './commands/gc.js';
import { registerImportCommand } from './commands/import.js';
import { registerLogCommand } from './commands/log.js';
import { registerFlowCommands } from './commands/flow.js';
import { registerLinkCommands } from './commands/links.js';
import { registerStatsCommand } from './commands/stats.js';
import { registerTaskCommands } from './commands/tasks.js';
import { registerWorkerCommands } from './commands/worker.js';

export const VERSION = '0.1.0';

/** The whole command tree; main.ts runs it and owns the exit codes. */
export function buildProgram(): Command {
  const program = new Command('kanban')
    .description('a local-first task board that runs agent workers')
    .version(VERSION)
    .option('--db <path>', 'board file (overrides KANBAN_DB, --board)')
    .option('--board <slug>', 'named board under $KANBAN_HOME/boards')
    .option('--config <path>', 'config file (overrides KANBAN_CONFIG)')
    .option('-j, --json', 'machine-readable output')
    .option('--no-color', 'no colour (the board is the only output in colour): the same as NO_COLOR=1')
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({ writeErr: () => {}, outputError: () => {} });
  // The board's colours (ui/color.ts) and Ink's read NO_COLOR: --no-color sets it before any command runs.
  program.hook('preAction', (root) => {
    if (root.opts<{ color?: boolean }>().color === false) process.env.NO_COLOR = '1';
  });
  registerBoardCommands(program);
  registerTaskCommands(program);
  registerImportCommand(program);
  registerLinkCommands(program);
  registerFlowCommands(program);
  registerDiagnosticsCommand(program);
  registerDispatchCommands(program);
  registerLogCommand(program);
  registerEventsCommand(program);
  registerStatsCommand(program);
  registerGcCommand(program);
  registerConfigCommands(program);
  registerBoardsCommands(program);
  registerCompletionCommand(program);
  registerWorkerCommands(program);
  // Every subcommand (and theirs) reports through run.ts: one `kanban: …` line, nothing from commander.
  const quiet = (command: Command): void => {
    command.exitOverride().configureOutput({ writeErr: () => {}, outputError: () => {} });
    command.commands.forEach(quiet);
  };
  program.commands.forEach(quiet);
  return program;
}
