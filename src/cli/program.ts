import { Command } from 'commander';
import { registerBoardCommands } from './commands/board.js';
import { registerDiagnosticsCommand } from './commands/diagnostics.js';
import { registerFlowCommands } from './commands/flow.js';
import { registerLinkCommands } from './commands/links.js';
import { registerTaskCommands } from './commands/tasks.js';

export const VERSION = '0.1.0';

/** The whole command tree; main.ts runs it and owns the exit codes. */
export function buildProgram(): Command {
  const program = new Command('kanban')
    .description('a local-first task board that runs agent workers')
    .version(VERSION)
    .option('--db <path>', 'board file (overrides KANBAN_DB, --board)')
    .option('--board <slug>', 'named board under $KANBAN_HOME/boards')
    .option('--config <path>', 'config file (overrides KANBAN_CONFIG)')
    .option('--json', 'machine-readable output')
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({ writeErr: () => {}, outputError: () => {} });
  registerBoardCommands(program);
  registerTaskCommands(program);
  registerLinkCommands(program);
  registerFlowCommands(program);
  registerDiagnosticsCommand(program);
  // Subcommands inherit the error handling: one `kanban: …` line from main.ts, nothing from commander.
  for (const command of program.commands) command.exitOverride().configureOutput({ writeErr: () => {}, outputError: () => {} });
  return program;
}
