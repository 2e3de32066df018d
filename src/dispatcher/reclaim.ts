import { requireTransition } from '../core/transitions.js';
import type { Task } from '../core/types.js';
import type { TickContext } from './context.js';
import { judgeRunningTask } from './judge.js';
import { stopClosedRun, takeBack } from './steps/leases.js';
import { pastGrace } from '../core/health.js';

/**
 * A person takes a running task back (CLI `reclaim`, the board's `r`): the run closed `reclaimed`
 * (not counted), the worker stopped, the task back to ready. A task marked running without a usable
 * claim is released too.
 */
export async function reclaimTask(ctx: TickContext, id: string): Promise<Task> {
  const task = await ctx.board.tasks.get(id);
  requireTransition(task, 'reclaim');
  const judgement = await judgeRunningTask(ctx, task);
  if (judgement && judgement.run.status === 'running') await takeBack(ctx, judgement, 'reclaimed', task.claim_expires, { source: 'user' });
  else await ctx.board.dispatch.reclaimGhost(id);
  return ctx.board.tasks.get(id);
}

/**
 * A person stops a task's work and blocks it (CLI `block` on a running task, the board's `b`): in one
 * transaction the run is closed `blocked` (not counted), the claim dropped and the task blocked
 * (sticky); then its worker is stopped as `reclaim` stops it. Other statuses are just blocked.
 */
export async function stopAndBlockTask(ctx: Pick<TickContext, 'board' | 'killer' | 'host'>, id: string, reason: string | null): Promise<Task> {
  const { task, stopped } = await ctx.board.transitions.stopAndBlock(id, reason);
  if (stopped) await stopClosedRun(ctx, stopped);
  return task;
}

/**
 * `reclaim --stale`: what the dispatcher would take back now (an expired lease not worth extending,
 * a run silent too long) plus runs whose supervisor is gone and running tasks without a usable claim.
 */
export async function staleTaskIds(ctx: TickContext): Promise<string[]> {
  const ids: string[] = [];
  const running = await ctx.board.dispatch.runningTasks();
  // As the reaper ages runs: at the time read after them (a dispatcher may have just claimed one).
  const now = running.length === 0 ? ctx.now : await ctx.currentTime();
  for (const task of running) {
    const judgement = await judgeRunningTask(ctx, task);
    const unusable = !judgement || judgement.run.status !== 'running';
    const supervisorGone =
      !unusable && judgement.hostLocal && !judgement.supervisorAlive && pastGrace(ctx.elapsed.ageOfStart(`started:${judgement.run.id}`, judgement.run.started_at, now), ctx.settings.crashGraceSeconds * 1000);
    if (unusable || judgement.verdict === 'reclaim' || judgement.verdict === 'stale' || supervisorGone) ids.push(task.id);
  }
  return ids;
}
