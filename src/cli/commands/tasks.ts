import type { Command } from 'commander';
import { parseTaskId } from '../../ids.js';
import { SORT_KEYS } from '../../core/types.js';
import { parseDuration } from '../../time.js';
import { InvalidInput } from '../../errors.js';
import { globalOptions, withBoard } from '../context.js';
import { printTask, printTaskDetail, printTaskTable, writeBytes, writeJson } from '../output.js';
import { collect, parseChoice, parseInteger, parsePositiveInteger, parseStatuses } from '../parse.js';
import { checkAssignee } from '../profiles.js';
import { noneIsNull, parseCreateFields, type CreateFields } from '../task-input.js';

interface CreateOptions extends Omit<CreateFields, 'title' | 'parents'> {
  parent?: string[];
  force?: boolean;
}

interface EditOptions {
  title?: string;
  body?: string;
  assignee?: string;
  priority?: string;
  maxRetries?: string;
  maxRuntime?: string;
  clearClaim?: boolean;
  resetFailures?: boolean;
  force?: boolean;
}

export function registerTaskCommands(program: Command): void {
  program
    .command('create')
    .description('new task: ready, or todo while a parent is unfinished')
    .argument('<title>')
    .option('-b, --body <text>', 'description')
    .option('-a, --assignee <profile>', 'profile that runs it')
    .option('-P, --priority <n>', 'higher runs first', '0')
    .option('-p, --parent <id>', 'a task that must finish first (repeatable)', collect)
    .option('--triage', 'put it in triage')
    .option('-s, --status <status>', 'todo, ready or blocked')
    .option('--max-retries <n>', 'counted failures before the breaker blocks it')
    .option('--max-runtime <duration>', 'a run is killed after this (90s, 15m, 2h)')
    .option('--workspace <spec>', 'scratch, dir:PATH, worktree or worktree:PATH', 'scratch')
    .option('--idempotency-key <key>', 'the same key returns the same task')
    .option('--force', 'assign a profile the config does not name')
    .action(async (title: string, opts: CreateOptions, command: Command) => {
      const { parent, force, ...fields } = opts;
      const input = parseCreateFields({ ...fields, title, parents: parent });
      const options = globalOptions(command);
      await checkAssignee(options, input.assignee, force ?? false);
      await withBoard(options, async (board) => {
        const { task, created } = await board.transitions.create(input);
        printTask(task, created ? 'created' : 'exists', options.json ?? false);
      });
    });

  program
    .command('edit')
    .description('change fields of a task')
    .argument('<id>')
    .option('-t, --title <text>')
    .option('-b, --body <text>')
    .option('-a, --assignee <profile>', "a profile, or 'none'")
    .option('-P, --priority <n>')
    .option('--max-retries <n>', "a number, or 'none' for the board's limit")
    .option('--max-runtime <duration>', "a duration, or 'none'")
    .option('--clear-claim', "drop a leftover claim from a task that is not running")
    .option('--reset-failures', 'set the failure counter back to 0')
    .option('--force', 'assign a profile the config does not name')
    .action(async (rawId: string, { force, ...opts }: EditOptions, command: Command) => {
      const id = parseTaskId(rawId);
      const orNone = <T>(text: string | undefined, parse: (t: string) => T): T | null | undefined =>
        text === undefined ? undefined : text.trim().toLowerCase() === 'none' ? null : parse(text);
      const input = {
        ...(opts.title !== undefined && { title: opts.title }),
        ...(opts.body !== undefined && { body: opts.body }),
        ...(opts.assignee !== undefined && { assignee: noneIsNull(opts.assignee) }),
        ...(opts.priority !== undefined && { priority: parseInteger(opts.priority, 'priority') }),
        ...(opts.maxRetries !== undefined && { maxRetries: orNone(opts.maxRetries, (t) => parseInteger(t, 'max retries')) }),
        ...(opts.maxRuntime !== undefined && { maxRuntimeSeconds: orNone(opts.maxRuntime, (t) => parseDuration(t, 'max runtime')) }),
        clearClaim: opts.clearClaim ?? false,
        resetFailures: opts.resetFailures ?? false,
      };
      if (Object.values(opts).every((v) => v === undefined)) {
        throw new InvalidInput('edit needs at least one of --title --body --assignee --priority --max-retries --max-runtime --clear-claim --reset-failures');
      }
      const options = globalOptions(command);
      await checkAssignee(options, input.assignee, force ?? false);
      await withBoard(options, async (board) => printTask(await board.transitions.edit(id, input), 'edited', options.json ?? false));
    });

  program
    .command('list')
    .description('list tasks (all but archived, unless --status says otherwise)')
    .option('-s, --status <status>', 'only these statuses (repeatable, or comma-separated)', collect)
    .option('-a, --assignee <profile>', 'only this profile')
    .option('--sort <key>', `one of ${SORT_KEYS.join(', ')}`, 'status')
    .option('-n, --limit <n>', 'at most this many (the first in the sort order)')
    .action(async (opts: { status?: string[]; assignee?: string; sort: string; limit?: string }, command: Command) => {
      const filter = {
        statuses: parseStatuses(opts.status ?? []),
        ...(opts.assignee !== undefined && { assignee: opts.assignee }),
        sort: parseChoice(opts.sort, SORT_KEYS, 'sort key'),
        ...(opts.limit !== undefined && { limit: parsePositiveInteger(opts.limit, 'limit') }),
      };
      const options = globalOptions(command);
      await withBoard(options, async (board) => {
        if (options.json) writeBytes(await board.tasks.listJson(filter));
        else printTaskTable(await board.tasks.list(filter));
      }, 'read');
    });

  program
    .command('show')
    .description('a task with its runs, events and comments')
    .argument('<id>')
    .action(async (rawId: string, _opts: unknown, command: Command) => {
      const id = parseTaskId(rawId);
      const options = globalOptions(command);
      await withBoard(options, async (board) => {
        const detail = await board.tasks.show(id);
        if (options.json) writeJson(detail);
        else printTaskDetail(detail, Date.now());
      }, 'read');
    });

  program
    .command('comment')
    .description('add a comment to a task')
    .argument('<id>')
    .argument('<text>')
    .action(async (rawId: string, text: string, _opts: unknown, command: Command) => {
      const id = parseTaskId(rawId);
      const options = globalOptions(command);
      await withBoard(options, async (board) => {
        await board.transitions.comment(id, text);
        printTask(await board.tasks.get(id), 'commented', options.json ?? false);
      });
    });
}

