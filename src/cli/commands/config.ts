import type { Command } from 'commander';
import { globalOptions } from '../context.js';

/** config init|check|show: their code (and the config's zod and yaml) is loaded only when used. */
export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('the config file: write a starter one, validate it, show what is in force');

  config
    .command('init')
    .description('write a commented starter config at the config path, a profile per agent CLI on PATH')
    .option('--force', 'replace an existing config')
    .action(async (opts: { force?: boolean }, command: Command) => {
      const { configInit } = await import('../config-command.js');
      configInit(globalOptions(command), opts.force ?? false);
    });

  config
    .command('check')
    .description('validate the config (and the KANBAN_* settings): exit 0, or 2 with the key at fault')
    .action(async (_opts: unknown, command: Command) => {
      const { configCheck } = await import('../config-command.js');
      configCheck(globalOptions(command));
    });

  config
    .command('show')
    .description('the config and settings in force, defaults merged, with where each came from (YAML, or --json); credentials hidden')
    .action(async (_opts: unknown, command: Command) => {
      const { configShow } = await import('../config-command.js');
      configShow(globalOptions(command));
    });
}
