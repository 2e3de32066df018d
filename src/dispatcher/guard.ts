import type { TaskRow } from '../core/types.js';
import type { TickContext } from './context.js';

export interface Guard {
  /** The outcome of the run that holds the task back: rate_limited, or a failure not counted (spawn_failed, crashed, …). */
  reason: string;
  clearAt: number;
  runId: number;
}

/**
 * Whether a ready task must not be respawned yet: its last run was rate limited (or failed for the
 * config or the machine, not counted) and the cooldown has not passed. Says so with a `respawn_guarded` event once per cooldown, not every tick.
 */
export async function respawnGuard(ctx: TickContext, task: TaskRow): Promise<Guard | null> {
  const run = await ctx.board.dispatch.lastRun(task.id);
  if (!run || run.status !== 'ended') return null;
  const cooldown = await ctx.board.dispatch.cooldownOf(run.id);
  if (cooldown === null) return null;
  // How long it has been held, judged step-proof (elapsed.ts): a cooldown written under a clock
  // stepped forward lasts what it was set for, not the step.
  const leftMs = cooldown.until - cooldown.setAt - ctx.elapsed.since(`cooldown:${run.id}`, cooldown.setAt, ctx.now);
  if (leftMs <= 0) return null;
  const clearAt = ctx.now + leftMs;
  const guard = { reason: run.outcome ?? 'unknown', clearAt, runId: run.id };
  if (!ctx.dryRun) await ctx.board.dispatch.noteRespawnGuarded(task.id, run.id, { reason: guard.reason, clear_at: clearAt });
  return guard;
}
