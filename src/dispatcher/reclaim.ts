import { NotFound } from '../errors.js';
import { reclaimGhost, runningTasks } from '../store/dispatch.js';
import { stopAndBlock } from '../store/lifecycle.js';
import { getTaskRow, requireTransition } from '../store/rows.js';
import type { TaskRow } from '../store/types.js';
import type { TickContext } from './context.js';
import { judgeRunningTask } from './judge.js';
import { stopClosedRun, takeBack } from './steps/leases.js';
import { pastGrace } from '../core/health.js';

/**
 * A person takes a running task back (CLI `reclaim`, the board's `r`): the run closed `reclaimed`
 * (not counted), the worker stopped, the task back to ready. A task marked running without a usable
 * claim is released too.
 */
export function reclaimTask(ctx: TickContext, id: string): TaskRow {
  const task = getTaskRow(ctx.store, id);
  if (!task) throw new NotFound(`no such task: ${id}`);
  requireTransition(task, 'reclaim');
  const judgement = judgeRunningTask(ctx, task);
  if (judgement && judgement.run.status === 'running') takeBack(ctx, judgement, 'reclaimed', task.claim_expires, { source: 'user' });
  else reclaimGhost(ctx.store, id);
  return getTaskRow(ctx.store, id)!;
}

/**
 * A person stops a task's work and blocks it (CLI `block` on a running task, the board's `b`): in one
 * transaction the run is closed `blocked` (not counted), the claim dropped and the task blocked
 * (sticky); then its worker is stopped as `reclaim` stops it. Other statuses are just blocked.
 */
export function stopAndBlockTask(ctx: Pick<TickContext, 'store' | 'killer' | 'host'>, id: string, reason: string | null): TaskRow {
  const { task, stopped } = stopAndBlock(ctx.store, id, reason);
  if (stopped) stopClosedRun(ctx, stopped);
  return task;
}

/**
 * `reclaim --stale`: what the dispatcher would take back now (an expired lease not worth extending,
 * a run silent too long) plus runs whose supervisor is gone and running tasks without a usable claim.
 */
export function staleTaskIds(ctx: TickContext): string[] {
  return runningTasks(ctx.store)
    .filter((task) => {
      const judgement = judgeRunningTask(ctx, task);
      if (!judgement || judgement.run.status !== 'running') return true;
      const supervisorGone = judgement.hostLocal && !judgement.supervisorAlive && pastGrace(ctx.elapsed.ageOfStart(`started:${judgement.run.id}`, judgement.run.started_at, ctx.now), ctx.settings.crashGraceSeconds * 1000);
      return judgement.verdict === 'reclaim' || judgement.verdict === 'stale' || supervisorGone;
    })
    .map((task) => task.id);
}
