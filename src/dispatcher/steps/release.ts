import { Refused } from '../../errors.js';
import { dueSchedules, promotableTodos, recoverBlocked, recoverableBlocked, releaseSchedule } from '../../store/dispatch.js';
import { promoteIfUnblocked } from '../../store/links.js';
import type { TickAction, TickContext } from '../context.js';

/** Scheduled tasks that are due go ready (todo while a parent is unfinished). */
export function dueSchedulesStep(ctx: TickContext): TickAction[] {
  return dueSchedules(ctx.store, ctx.now).flatMap((task) =>
    attempt(ctx, () => releaseSchedule(ctx.store, task.id), { step: 'schedule', action: 'released', task_id: task.id, detail: 'due' }),
  );
}

/**
 * todo whose parents are all finished → ready. A blocked task comes back only when its block is not
 * sticky (the breaker's) and its counter is below the limit now in force; the counter is kept.
 */
export function readyStep(ctx: TickContext): TickAction[] {
  const promoted = promotableTodos(ctx.store).flatMap((task) =>
    attempt(
      ctx,
      () => ctx.store.writeTxn(() => promoteIfUnblocked(ctx.store, task, { source: 'dispatcher' }) || refuse()),
      { step: 'ready', action: 'promoted', task_id: task.id, detail: 'parents finished' },
    ),
  );
  const limit = ctx.settings.failureLimit;
  const recovered = recoverableBlocked(ctx.store, limit).flatMap((task) =>
    attempt(ctx, () => recoverBlocked(ctx.store, task.id, limit), {
      step: 'ready',
      action: 'recovered',
      task_id: task.id,
      detail: `${task.consecutive_failures} failures, limit now ${task.max_retries ?? limit}`,
    }),
  );
  return [...promoted, ...recovered];
}

function refuse(): never {
  throw new Refused('no longer promotable');
}

/** Does `write` unless dry; a refusal means another dispatcher or a person moved it first: no action. */
function attempt(ctx: TickContext, write: () => unknown, action: TickAction): TickAction[] {
  if (ctx.dryRun) return [action];
  try {
    write();
    return [action];
  } catch (err) {
    if (err instanceof Refused) return [];
    throw err;
  }
}
