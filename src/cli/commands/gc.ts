import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { resolveConfigPath } from '../../location.js';
import { parseDuration } from '../../time.js';
import { systemClock } from '../../clock.js';
import { globalOptions, withBoard, type GlobalOptions } from '../context.js';
import { writeJson, writeLine } from '../output.js';

export function registerGcCommand(program: Command): void {
  program
    .command('gc')
    .description('retention: remove the history (events, comments, runs, logs, scratch workspaces) of tasks archived long ago; the tasks stay, archived')
    .option('--older-than <dur>', 'tasks archived at least this long ago (default: the config\'s gc.older_than, else 30d)')
    .option('--archive-done-after <dur>', 'first archive done tasks completed at least this long ago (default: the config\'s gc.archive_done_after, else none)')
    .option('--dry-run', 'say what would go, change nothing')
    .addHelpText(
      'after',
      `
DUR is 90, 90s, 15m, 2h, 1d. The work is done in short batches: dispatchers and workers carry on
meanwhile. A dispatcher does the same on its own every gc.every (config: gc: {older_than: 30d,
archive_done_after: 14d, every: 1h}). --json prints what went as one object.`,
    )
    .action(async (opts: { olderThan?: string; archiveDoneAfter?: string; dryRun?: boolean }, command: Command) => {
      const options = globalOptions(command);
      const policy = await gcPolicy(options, opts);
      const dryRun = opts.dryRun ?? false;
      const { GcPass, describeGc } = await import('../../gc.js');
      const tally = await withBoard(
        options,
        async (board) => {
          const pass = new GcPass(board, policy, await board.now(systemClock), { dryRun });
          await pass.run();
          return pass.tally;
        },
        dryRun ? 'read' : 'write',
      );
      if (options.json) return writeJson(tally);
      writeLine(describeGc(tally));
      for (const problem of tally.problems) writeLine(`  left: ${problem}`);
    });
}

/** The limits: the options, else the config's `gc:`, else 30 days and no archiving. Bad input: exit 2 before the board is opened. */
async function gcPolicy(options: GlobalOptions, opts: { olderThan?: string; archiveDoneAfter?: string }): Promise<{ olderThanMs: number; archiveDoneAfterMs: number | null }> {
  const olderThan = opts.olderThan === undefined ? undefined : parseDuration(opts.olderThan, '--older-than');
  const archiveDoneAfter = opts.archiveDoneAfter === undefined ? undefined : parseDuration(opts.archiveDoneAfter, '--archive-done-after');
  const { GC_DEFAULTS, loadConfig } = await import('../../config.js');
  let configured = GC_DEFAULTS;
  if (olderThan === undefined || archiveDoneAfter === undefined) {
    const path = resolveConfigPath(options);
    if (existsSync(path)) configured = loadConfig(path).gc ?? GC_DEFAULTS;
  }
  const { gcPolicyOf } = await import('../../gc.js');
  return gcPolicyOf({ older_than: olderThan ?? configured.older_than, archive_done_after: archiveDoneAfter ?? configured.archive_done_after });
}
