import type { Command } from 'commander';
import { InvalidInput } from '../../errors.js';
import { parseTaskId } from '../../ids.js';
import { readFileSync } from 'node:fs';
import { renderPrompt } from '../../agents/prompt.js';
import { promptFilePath } from '../../workers/runlog.js';
import { identityFromEnv } from '../../workers/identity.js';
import type { BoardStore } from '../../port/board.js';
import type { RunIdentity } from '../../core/run.js';
import { globalOptions, withBoard } from '../context.js';
import { printTask, writeJson, writeLine } from '../output.js';
import { collect } from '../parse.js';
import { parseCreateFields } from '../task-input.js';

type WorkerAction = (board: BoardStore, identity: RunIdentity) => Promise<unknown>;

/**
 * The worker side: each command checks the identity in the environment (KANBAN_DB, KANBAN_TASK,
 * KANBAN_RUN_ID, KANBAN_CLAIM_LOCK) before anything, then acts only while that run holds the task.
 */
export function registerWorkerCommands(program: Command): void {
  const worker = program.command('worker').description('commands for workers (identity from the environment)');

  /** Does `action` as the run in the environment, then prints the task as it is now. */
  const act = (command: Command, verb: string, action: WorkerAction) => {
    const identity = identityFromEnv(); // before the board is touched: a bad identity is exit 2
    const options = globalOptions(command);
    return withBoard(options, async (board) => {
      await action(board, identity);
      printTask(await board.tasks.get(identity.taskId), verb, options.json ?? false);
    });
  };

  worker
    .command('heartbeat')
    .description('I am alive: extends the lease')
    .option('--note <text>', 'what the worker is doing')
    .action((opts: { note?: string }, command: Command) => act(command, 'heartbeat', (board, id) => board.lease.heartbeat(id, { note: opts.note ?? null })));

  worker
    .command('complete')
    .description('the task is done')
    .option('--summary <text>', 'what was done')
    .action((opts: { summary?: string }, command: Command) => act(command, 'completed', (board, id) => board.lease.complete(id, opts.summary ?? null)));

  worker
    .command('block')
    .description('the task needs a human: a sticky block')
    .argument('<reason>')
    .action((reason: string, _opts: unknown, command: Command) => {
      if (reason.trim() === '') throw new InvalidInput('worker block needs a reason');
      return act(command, 'blocked', (board, id) => board.lease.block(id, reason));
    });

  worker
    .command('comment')
    .description('add a comment as the worker')
    .argument('<text>')
    .action((text: string, _opts: unknown, command: Command) => {
      if (text.trim() === '') throw new InvalidInput('a comment needs some text');
      return act(command, 'commented', (board, id) => board.lease.comment(id, text));
    });

  worker
    .command('review')
    .description('the work is done and waits for a person to review it')
    .option('--summary <text>', 'what was done')
    .action((opts: { summary?: string }, command: Command) => act(command, 'sent to review', (board, id) => board.lease.review(id, opts.summary ?? null)));

  worker
    .command('create')
    .description('a follow-up task: a child of this one, or of the --parent tasks')
    .argument('<title>')
    .option('-b, --body <text>', 'description')
    .option('-a, --assignee <profile>', 'profile that runs it')
    .option('-P, --priority <n>', 'higher runs first', '0')
    .option('-p, --parent <id>', 'a task that must finish first, instead of this one (repeatable)', collect)
    .action((title: string, opts: { body?: string; assignee?: string; priority?: string; parent?: string[] }, command: Command) => {
      const identity = identityFromEnv();
      const options = globalOptions(command);
      const input = parseCreateFields({ title, body: opts.body, assignee: opts.assignee, priority: opts.priority, parents: opts.parent });
      return withBoard(options, async (board) => printTask((await board.lease.create(identity, input)).task, 'created', options.json ?? false));
    });

  worker
    .command('context')
    .description('the task as this run was handed it: the prompt, or with --json its parts (and which attempt this run is)')
    .action((_opts: unknown, command: Command) => {
      const identity = identityFromEnv();
      const options = globalOptions(command);
      return withBoard(
        options,
        async (board) => {
          await board.lease.check(identity);
          const context = await board.tasks.context(identity.taskId);
          const workspace = process.env.KANBAN_WORKSPACE ?? context.task.workspace_path ?? '';
          const prompt = readPromptFile(promptFilePath(board.ref.dataDir, identity)) ??
            renderPrompt({ context, runId: identity.runId, workspace, kanban: 'kanban', answerIsSummary: false });
          if (!options.json) return writeLine(prompt.trimEnd());
          const { task, parents, comments } = context;
          // Which try this is (1 for the first run): a worker may do less, or say more, on a retry.
          const attempt = (await board.tasks.runs(task.id)).filter((run) => run.id <= identity.runId).length;
          writeJson({ task_id: task.id, run_id: identity.runId, attempt, title: task.title, body: task.body, workspace, parents, comments, prompt });
        },
        'read',
      );
    });

  worker
    .command('guard')
    .description('exit 0 while this worker still holds its task, 1 once it does not')
    .action((_opts: unknown, command: Command) => act(command, 'holds', (board, id) => board.lease.check(id)));

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

/** The prompt file the run was handed, or null once it is gone (the run ended) or was never written. */
function readPromptFile(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}
