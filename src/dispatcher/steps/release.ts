import { Refused } from '../../errors.js';
import type { TickAction, TickContext } from '../context.js';

/** Scheduled tasks that are due go ready (todo while a parent is unfinished). */
export async function dueSchedulesStep(ctx: TickContext): Promise<TickAction[]> {
  const actions: TickAction[] = [];
  for (const task of await ctx.board.dispatch.dueSchedules(ctx.now)) {
    actions.push(...(await attempt(ctx, () => ctx.board.dispatch.releaseSchedule(task.id), { step: 'schedule', action: 'released', task_id: task.id, detail: 'due' })));
  }
  return actions;
}

/**
 * todo whose parents are all finished → ready. A blocked task comes back only when its block is not
 * sticky (the breaker's) and its counter is below the limit now in force; the counter is kept.
 */
export async function readyStep(ctx: TickContext): Promise<TickAction[]> {
  const actions: TickAction[] = [];
  for (const task of await ctx.board.dispatch.promotableTodos()) {
    actions.push(...(await attempt(ctx, () => ctx.board.dispatch.promoteReady(task.id), { step: 'ready', action: 'promoted', task_id: task.id, detail: 'parents finished' })));
  }
  const limit = ctx.settings.failureLimit;
  for (const task of await ctx.board.dispatch.recoverableBlocked(limit)) {
    actions.push(
      ...(await attempt(ctx, () => ctx.board.dispatch.recoverBlocked(task.id, limit), {
        step: 'ready',
        action: 'recovered',
        task_id: task.id,
        detail: `${task.consecutive_failures} failures, limit now ${task.max_retries ?? limit}`,
      })),
    );
  }
  return actions;
}

/** Does `write` unless dry; a refusal means another dispatcher or a person moved it first: no action. */
async function attempt(ctx: TickContext, write: () => Promise<unknown>, action: TickAction): Promise<TickAction[]> {
  if (ctx.dryRun) return [action];
  try {
    await write();
    return [action];
  } catch (err) {
    if (err instanceof Refused) return [];
    throw err;
  }
}
