import type { Command } from 'commander';
import { globalOptions } from '../context.js';

export function registerStatsCommand(program: Command): void {
  program
    .command('stats')
    .description('run statistics: completions per hour (24 h), outcomes and run time per profile, time lost to rate limits, slowest tasks')
    .action(async (_opts: unknown, command: Command) => {
      const { statsCommand } = await import('../stats-report.js');
      await statsCommand(globalOptions(command));
    });
}
