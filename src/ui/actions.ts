import type { TickContext } from '../dispatcher/context.js';
import { reclaimTask, stopAndBlockTask } from '../dispatcher/reclaim.js';
import { KanbanError, errorMessage } from '../errors.js';
import { cleanLine } from '../sanitize.js';
import type { Task, TaskRow } from '../core/types.js';
import { formatWhen, parseWhen } from '../time.js';

/** What an action says in the status line, and the task it produced (to select it). */
export interface Outcome {
  message: string;
  tone: 'ok' | 'error';
  task?: Pick<TaskRow, 'id' | 'status'>;
}

/**
 * Every board action calls the same board transition as the CLI. A refusal or bad input becomes a
 * status line ("refused: …"), never an exception that could take the board down.
 */
export async function act(describe: (task: Task | TaskRow) => string, run: () => Promise<Task | TaskRow>): Promise<Outcome> {
  try {
    const task = await run();
    return { message: cleanLine(describe(task)), tone: 'ok', task };
  } catch (err) {
    const prefix = err instanceof KanbanError && err.exitCode === 1 ? 'refused' : 'error';
    return { message: `${prefix}: ${cleanLine(errorMessage(err))}`, tone: 'error' };
  }
}

export const actions = {
  reclaim: (ctx: TickContext, id: string) => act((t) => `reclaimed ${t.id} → ${t.status}`, () => reclaimTask(ctx, id)),
  unblock: (ctx: TickContext, id: string) => act((t) => `unblocked ${t.id} → ${t.status}`, () => ctx.board.transitions.unblock(id)),
  reopen: (ctx: TickContext, id: string) => act((t) => `reopened ${t.id} → ${t.status}`, () => ctx.board.transitions.reopen(id)),
  promote: (ctx: TickContext, id: string, force: boolean) =>
    act((t) => `promoted ${t.id} → ${t.status}${force ? ' (forced)' : ''}`, () => ctx.board.transitions.promote(id, { force })),
  archive: (ctx: TickContext, id: string) => act((t) => `archived ${t.id}`, () => ctx.board.transitions.archive(id)),
  comment: (ctx: TickContext, id: string, text: string) =>
    act(
      (t) => `commented on ${t.id}`,
      async () => {
        await ctx.board.transitions.comment(id, text.trim());
        return ctx.board.tasks.get(id);
      },
    ),
  /** `child` waits on `parent` from now on (a cycle or a self-link is refused). */
  link: (ctx: TickContext, child: string, parent: string) => act(() => `${child} now waits on ${parent.trim()}`, () => ctx.board.transitions.link(parent.trim(), child)),
  unlink: (ctx: TickContext, child: string, parent: string) => act(() => `${child} no longer waits on ${parent.trim()}`, () => ctx.board.transitions.unlink(parent.trim(), child)),
  /** Title and body as `$EDITOR` left them: the first line the title, the rest (after a blank line) the body. */
  edit: (ctx: TickContext, id: string, text: string) =>
    act(
      (t) => `edited ${t.id}`,
      () => {
        const [title = '', ...rest] = text.replace(/\r\n/g, '\n').split('\n');
        return ctx.board.transitions.edit(id, { title: title.trim(), body: rest.join('\n').replace(/^\n/, '').trimEnd() });
      },
    ),
  complete: (ctx: TickContext, id: string) => act((t) => `completed ${t.id}`, () => ctx.board.transitions.complete(id)),
  approve: (ctx: TickContext, id: string) => act((t) => `approved ${t.id} → ${t.status}`, () => ctx.board.transitions.approve(id)),
  requestChanges: (ctx: TickContext, id: string, feedback: string) => act((t) => `changes requested on ${t.id} → ${t.status}`, () => ctx.board.transitions.requestChanges(id, feedback)),
  /** A running task's worker is stopped first (its run closed `blocked`, not counted). */
  block: (ctx: TickContext, id: string, reason: string) => act((t) => `blocked ${t.id}`, () => stopAndBlockTask(ctx, id, reason.trim() || null)),
  assign: (ctx: TickContext, id: string, assignee: string) =>
    act((t) => `assigned ${t.id} to ${t.assignee ?? 'nobody'}`, () => ctx.board.transitions.edit(id, { assignee: assignee.trim() === '' || assignee.trim() === 'none' ? null : assignee.trim() })),
  /** A duration from now (`90s`, `2h`) or an ISO time. */
  schedule: (ctx: TickContext, id: string, when: string) =>
    act(
      (t) => `scheduled ${t.id} until ${formatWhen(t.scheduled_until!, ctx.now)}`,
      async () => ctx.board.transitions.schedule(id, parseWhen(when, ctx.now)),
    ),
  create: (ctx: TickContext, title: string, assignee: string) =>
    act((t) => `created ${t.id} (${t.status})`, async () => (await ctx.board.transitions.create({ title, assignee: assignee.trim() === '' ? null : assignee.trim() })).task),
};

/**
 * One action on several tasks, each in its own transaction, reported per card:
 * "3 unblocked, 1 refused: cannot unblock t_… : it is ready".
 */
export async function bulk(ids: readonly string[], verb: string, run: (id: string) => Promise<Outcome>): Promise<Outcome> {
  const outcomes: Outcome[] = [];
  for (const id of ids) outcomes.push(await run(id));
  const done = outcomes.filter((o) => o.tone === 'ok').length;
  const failed = outcomes.filter((o) => o.tone === 'error');
  const parts = [`${done} ${verb}`];
  if (failed.length > 0) parts.push(`${failed.length} refused: ${failed.map((o) => o.message.replace(/^(refused|error): /, '')).join('; ')}`);
  return { message: parts.join(', '), tone: failed.length > 0 ? 'error' : 'ok' };
}
