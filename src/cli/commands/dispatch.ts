import type { Command } from 'commander';
import { InvalidInput } from '../../errors.js';
import { join, resolve } from 'node:path';
import { kanbanHome, resolveBoardPath, resolveConfigPath } from '../../location.js';
import { parseDuration } from '../../time.js';
import { globalOptions } from '../context.js';

/** dispatch, tui, reclaim: the commands that run the dispatcher's code (loaded only when used). */
export function registerDispatchCommands(program: Command): void {
  program
    .command('dispatch')
    .description('one dispatcher tick; prints what it did')
    .option('--dry-run', 'say what the tick would do, change nothing')
    .action(async (opts: { dryRun?: boolean }, command: Command) => {
      const { dispatchCommand } = await import('../configured.js');
      await dispatchCommand(globalOptions(command), opts.dryRun ?? false);
    });

  program
    .command('tui')
    .description('the board, full screen, with the dispatcher; --no-ui runs the dispatcher and reaper headless')
    .option('--no-ui', 'no screen: dispatch and print one line per tick that did something')
    .option('--no-dispatch', 'the board without the dispatcher (someone else runs it)')
    .option('--tick <duration>', 'tick interval (overrides tick_seconds and KANBAN_TICK_SECONDS)')
    .option('--demo', 'a demo board (in $KANBAN_HOME/boards/demo) whose workers are scripts shipped with kanban')
    .option('--reset', 'with --demo: start the demo afresh (its board, logs and workspaces)')
    .option('--bell', 'ring the terminal bell when a task comes to need a person (blocked, review)')
    .option('--no-mouse', 'leave the mouse to the terminal (select and copy text as usual)')
    .action(async (opts: { ui: boolean; dispatch: boolean; mouse: boolean; bell?: boolean; tick?: string; demo?: boolean; reset?: boolean }, command: Command) => {
      const flags = opts.tick !== undefined ? { tickSeconds: positive(parseDuration(opts.tick, 'tick'), '--tick') } : {};
      let options = globalOptions(command);
      if (opts.reset && !opts.demo) throw new InvalidInput('--reset starts the demo afresh: it goes with --demo');
      if (opts.demo) {
        if (opts.reset && options.db !== undefined) throw new InvalidInput('--reset only resets the demo board: it does not take --db');
        const { prepareDemo } = await import('../../ui/demo.js');
        const db = options.db ?? join(kanbanHome(), 'boards', 'demo', 'board.db');
        options = { ...options, db, config: options.config ?? (await prepareDemo(resolve(db), opts.reset ?? false)).configPath };
      }
      if (!opts.ui) {
        const { headlessCommand } = await import('../configured.js');
        return headlessCommand(options, flags);
      }
      const { importHidingCi } = await import('../../ui/load.js');
      const { runTui } = await importHidingCi(() => import('../../ui/run.js'));
      await runTui(resolveBoardPath(options), resolveConfigPath(options), { dispatch: opts.dispatch, mouse: opts.mouse, bell: opts.bell ?? false, flags });
    });

  program
    .command('reclaim')
    .description('take running tasks back: kill the worker, close the run as reclaimed, back to ready')
    .argument('[ids...]')
    .option('--stale', 'every task whose claim expired or whose worker is dead')
    .action(async (ids: string[], opts: { stale?: boolean }, command: Command) => {
      if ((ids.length > 0) === (opts.stale ?? false)) throw new InvalidInput('reclaim needs task ids or --stale, not both');
      const { reclaimCommand } = await import('../configured.js');
      await reclaimCommand(globalOptions(command), ids, opts.stale ?? false);
    });
}

function positive(seconds: number, what: string): number {
  if (seconds <= 0) throw new InvalidInput(`invalid ${what} '${seconds}': expected a duration above 0`);
  return seconds;
}
