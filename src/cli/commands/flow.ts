import type { Command } from 'commander';
import { thisHost } from '../../host.js';
import { InvalidInput } from '../../errors.js';
import { parseTaskId } from '../../ids.js';
import type { BoardStore } from '../../port/board.js';
import type { RunIdentity } from '../../core/run.js';
import type { Task } from '../../core/types.js';
import { isDurationUnit, parseDuration, parseTime } from '../../time.js';
import { globalOptions, withBoard } from '../context.js';
import { actOnEach } from '../each.js';
import { formatTaskLine, formatWhen, printTask, writeLine } from '../output.js';

/** Commands that move a task through its statuses. */
export function registerFlowCommands(program: Command): void {
  program
    .command('block')
    .description('sticky block: never released automatically, only by unblock; a running task’s worker is stopped first')
    .argument('<id>')
    .argument('[reason]')
    .action(async (rawId: string, reason: string | undefined, _opts: unknown, command: Command) => {
      const id = parseTaskId(rawId);
      const options = globalOptions(command);
      await withBoard(options, async (board) => {
        const { task, stopped } = await board.transitions.stopAndBlock(id, reason ?? null);
        printTask(task, 'blocked', options.json ?? false);
        if (stopped) await stopWorker(board, stopped);
      });
    });

  eachTaskCommand(program, 'unblock', 'blocked or scheduled → ready (todo while a parent is unfinished); resets the failure counter', 'unblocked', (board, id) => board.transitions.unblock(id));

  program
    .command('schedule')
    .description('park a task until a time; the dispatcher releases it when due')
    .argument('<id>')
    .argument('[reason]')
    .option('--at <time>', 'ISO 8601 time, e.g. 2026-12-01T09:00')
    .option('--in <duration>', 'from now: 90s, 15m, 2h, 1d (or 2 hours)')
    .action(async (rawId: string, reason: string | undefined, opts: { at?: string; in?: string }, command: Command) => {
      const id = parseTaskId(rawId);
      if ((opts.at === undefined) === (opts.in === undefined)) throw new InvalidInput('schedule needs exactly one of --at TIME or --in DURATION');
      // `--in 2 hours`: the unit arrives as the reason; it belongs to the duration.
      let delay = opts.in;
      if (delay !== undefined && reason !== undefined && /^[\d.]+$/.test(delay.trim()) && isDurationUnit(reason)) {
        delay = `${delay} ${reason}`;
        reason = undefined;
      }
      const at = opts.at !== undefined ? parseTime(opts.at) : undefined;
      const delayMs = delay !== undefined ? parseDuration(delay, 'delay') * 1000 : undefined;
      const options = globalOptions(command);
      await withBoard(options, async (board) => {
        const now = Date.now();
        const task = await board.transitions.schedule(id, at ?? now + delayMs!, reason ?? null);
        if (options.json) return printTask(task, 'scheduled', true);
        writeLine(`${formatTaskLine(task, 'scheduled')}  due ${formatWhen(task.scheduled_until!, now)}`);
      });
    });

  program
    .command('promote')
    .description('triage/todo/blocked → ready; refused while a parent is unfinished unless --force')
    .argument('<ids...>')
    .option('--force', 'promote even though a parent is unfinished')
    .option('--dry-run', 'say what would happen, change nothing')
    .action(async (ids: string[], opts: { force?: boolean; dryRun?: boolean }, command: Command) => {
      const options = globalOptions(command);
      const promote = { force: opts.force ?? false, dryRun: opts.dryRun ?? false };
      await withBoard(options, (board) => actOnEach(ids, opts.dryRun ? 'would promote' : 'promoted', options.json ?? false, (id) => board.transitions.promote(id, promote)));
    });

  program
    .command('complete')
    .description('any open status → done; children whose parents are all done go ready')
    .argument('<id>')
    .option('--summary <text>', 'what was done')
    .action(async (rawId: string, opts: { summary?: string }, command: Command) => {
      const id = parseTaskId(rawId);
      const options = globalOptions(command);
      await withBoard(options, async (board) => printTask(await board.transitions.complete(id, opts.summary ?? null), 'completed', options.json ?? false));
    });

  program
    .command('approve')
    .description('review → done: the work is accepted')
    .argument('<ids...>')
    .action(async (ids: string[], _opts: unknown, command: Command) => {
      const options = globalOptions(command);
      await withBoard(options, (board) => actOnEach(ids, 'approved', options.json ?? false, (id) => board.transitions.approve(id)));
    });

  program
    .command('request-changes')
    .description('review → ready, with what to fix as a comment the next run is handed')
    .argument('<id>')
    .argument('<feedback>')
    .action(async (rawId: string, feedback: string, _opts: unknown, command: Command) => {
      const id = parseTaskId(rawId);
      const options = globalOptions(command);
      await withBoard(options, async (board) => printTask(await board.transitions.requestChanges(id, feedback), 'changes requested', options.json ?? false));
    });

  eachTaskCommand(program, 'reopen', 'done/archived → ready (todo while a parent is unfinished): the work is wanted again', 'reopened', (board, id) => board.transitions.reopen(id));

  eachTaskCommand(program, 'archive', 'hide tasks', 'archived', (board, id) => board.transitions.archive(id));
}

/** A command that takes one or more task ids and applies one store transition to each, reporting each. */
function eachTaskCommand(program: Command, name: string, description: string, verb: string, transition: (board: BoardStore, id: string) => Promise<Task>): void {
  program
    .command(name)
    .description(description)
    .argument('<ids...>')
    .action(async (ids: string[], _opts: unknown, command: Command) => {
      const options = globalOptions(command);
      await withBoard(options, (board) => actOnEach(ids, verb, options.json ?? false, (id) => transition(board, id)));
    });
}

/**
 * After `block` closed a running task's run: its worker stopped as `reclaim` stops it (a live
 * supervisor spared, to record the exit), waiting out the grace. The code for it is loaded only then.
 */
async function stopWorker(board: BoardStore, run: RunIdentity): Promise<void> {
  const [{ Killer }, { stopClosedRun }] = await Promise.all([import('../../dispatcher/processes.js'), import('../../dispatcher/steps/leases.js')]);
  const killer = new Killer();
  await stopClosedRun({ board, killer, host: thisHost().id }, run);
  await killer.settle();
}
