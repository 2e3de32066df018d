import type { Command } from 'commander';
import { InvalidInput } from '../../errors.js';
import { parseTaskId } from '../../ids.js';
import { blockRun, checkOwnership, commentFromRun, completeRun, heartbeat } from '../../store/lease.js';
import { toTask } from '../../store/tasks.js';
import { identityFromEnv } from '../../workers/identity.js';
import type { Store } from '../../store/db.js';
import type { RunIdentity } from '../../store/lease.js';
import type { TaskRow } from '../../store/types.js';
import { globalOptions, withStore } from '../context.js';
import { printTask } from '../output.js';

type WorkerAction = (store: Store, identity: RunIdentity) => TaskRow;

/**
 * The worker side: each command checks the identity in the environment (KANBAN_DB, KANBAN_TASK,
 * KANBAN_RUN_ID, KANBAN_CLAIM_LOCK) before anything, then acts only while that run holds the task.
 */
export function registerWorkerCommands(program: Command): void {
  const worker = program.command('worker').description('commands for workers (identity from the environment)');

  const act = (command: Command, verb: string, action: WorkerAction) => {
    const identity = identityFromEnv(); // before the board is touched: a bad identity is exit 2
    const options = globalOptions(command);
    withStore(options, (store) => printTask(toTask(store, action(store, identity)), verb, options.json ?? false));
  };

  worker
    .command('heartbeat')
    .description('I am alive: extends the lease')
    .option('--note <text>', 'what the worker is doing')
    .action((opts: { note?: string }, command: Command) => act(command, 'heartbeat', (store, id) => heartbeat(store, id, { note: opts.note ?? null })));

  worker
    .command('complete')
    .description('the task is done')
    .option('--summary <text>', 'what was done')
    .action((opts: { summary?: string }, command: Command) => act(command, 'completed', (store, id) => completeRun(store, id, opts.summary ?? null)));

  worker
    .command('block')
    .description('the task needs a human: a sticky block')
    .argument('<reason>')
    .action((reason: string, _opts: unknown, command: Command) => {
      if (reason.trim() === '') throw new InvalidInput('worker block needs a reason');
      act(command, 'blocked', (store, id) => blockRun(store, id, reason));
    });

  worker
    .command('comment')
    .description('add a comment as the worker')
    .argument('<text>')
    .action((text: string, _opts: unknown, command: Command) => {
      if (text.trim() === '') throw new InvalidInput('a comment needs some text');
      act(command, 'commented', (store, id) => {
        commentFromRun(store, id, text);
        return checkOwnership(store, id);
      });
    });

  worker
    .command('guard')
    .description('exit 0 while this worker still holds its task, 1 once it does not')
    .action((_opts: unknown, command: Command) => act(command, 'holds', (store, id) => checkOwnership(store, id)));

  worker
    .command('run', { hidden: true })
    .description('internal: supervise one run (started by the dispatcher)')
    .requiredOption('--task <id>')
    .requiredOption('--run <n>')
    .action(async (opts: { task: string; run: string }, command: Command) => {
      const { superviseRun } = await import('../../workers/supervisor.js');
      const runId = Number(opts.run);
      if (!Number.isSafeInteger(runId) || runId <= 0) throw new InvalidInput(`invalid run '${opts.run}': expected a run number`);
      await superviseRun({ options: globalOptions(command), taskId: parseTaskId(opts.task), runId });
    });
}
