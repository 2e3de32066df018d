import { errorMessage, Refused } from '../../errors.js';
import { infrastructureFault, INFRASTRUCTURE_RETRY_MS } from '../../faults.js';
import type { TaskRow } from '../../core/types.js';
import { failurePolicyOf } from '../../settings.js';
import type { TickAction, TickContext } from '../context.js';
import { respawnGuard } from '../guard.js';
import { formatWhen } from '../../time.js';

/** How far down a ready column a tick looks for something it can start (past tasks it must skip). */
const READY_SCAN_LIMIT = 5_000;

/**
 * Ready tasks by priority, then age: each gets its profile (the default assignee for an unassigned
 * one), within the board's cap and its profile's, unless a rate-limit cooldown holds it; then it is
 * claimed and its supervisor started detached. The counts read here only save work: the caps that
 * hold are checked again inside each claim's transaction, where other dispatchers cannot race it. A start that fails closes the run `spawn_failed`.
 */
export async function spawnStep(ctx: TickContext): Promise<TickAction[]> {
  const actions: TickAction[] = [];
  const counts = await ctx.board.dispatch.runningCounts();
  let running = counts.total;
  const skip = (task: TaskRow, detail: string) => actions.push({ step: 'spawn', action: 'skipped', task_id: task.id, detail });

  for (const task of await ctx.board.dispatch.readyQueue(READY_SCAN_LIMIT)) {
    if (running >= ctx.settings.maxInProgress) break;
    const assignee = task.assignee ?? ctx.config.default_assignee ?? null;
    if (assignee === null) {
      skip(task, 'no assignee and no default_assignee');
      continue;
    }
    const profile = ctx.config.profiles[assignee];
    if (!profile) {
      skip(task, `no profile named '${assignee}'`);
      continue;
    }
    const cap = profile.max_in_progress;
    if (cap !== undefined && (counts.byAssignee.get(assignee) ?? 0) >= cap) {
      skip(task, `profile ${assignee} is at its cap of ${cap}`);
      continue;
    }
    const guard = await respawnGuard(ctx, task);
    if (guard) {
      actions.push({ step: 'spawn', action: 'guarded', task_id: task.id, detail: `${guard.reason === 'rate_limited' ? 'rate limited' : guard.reason === 'spawn_failed' ? 'could not start' : `${guard.reason}, not counted (the machine's fault)`} until ${formatWhen(guard.clearAt, ctx.now)}` });
      continue;
    }
    if (ctx.dryRun) {
      actions.push({ step: 'spawn', action: 'spawned', task_id: task.id, detail: task.assignee ? assignee : `${assignee} (default assignee)` });
    } else {
      const action = await claimAndLaunch(ctx, task, assignee, cap);
      if (!action) continue;
      if (action.action === 'at_board_cap') break; // another dispatcher filled the board meanwhile
      if (action.action === 'at_profile_cap') {
        counts.byAssignee.set(assignee, cap!);
        continue;
      }
      actions.push(action);
      if (action.fault) break; // the machine failed: no more starts this tick
      if (action.action !== 'spawned') continue;
    }
    running++;
    counts.byAssignee.set(assignee, (counts.byAssignee.get(assignee) ?? 0) + 1);
  }
  return actions;
}

async function claimAndLaunch(ctx: TickContext, task: TaskRow, assignee: string, cap: number | undefined): Promise<TickAction | null> {
  try {
    if (task.assignee === null) await ctx.board.dispatch.assignDefault(task.id, assignee);
    const caps = { board: ctx.settings.maxInProgress, ...(cap !== undefined && { profile: cap }) };
    const claim = await ctx.board.lease.claim(task.id, { profile: assignee, leaseMs: ctx.settings.claimTtlSeconds * 1000, caps });
    if (!claim.claimed) return { step: 'spawn', action: claim.atCap ? `at_${claim.atCap}_cap` : 'demoted', task_id: task.id, detail: claim.reason };
    try {
      const pid = ctx.launch(claim.identity);
      await ctx.board.lease.attachSupervisor(claim.identity, pid);
      return { step: 'spawn', action: 'spawned', task_id: task.id, run_id: claim.identity.runId, detail: `${assignee}, supervisor ${pid}` };
    } catch (err) {
      if (err instanceof Refused) return { step: 'spawn', action: 'spawned', task_id: task.id, run_id: claim.identity.runId, detail: `${assignee}, run already moved on` };
      const reason = `cannot start the supervisor: ${errorMessage(err)}`;
      // The board's folder read-only or full, no process slots: the machine's fault, not the task's.
      const fault = infrastructureFault(err);
      try {
        await ctx.board.lease.recordFailure(claim.identity, 'spawn_failed', reason, failurePolicyOf(ctx.settings), fault ? { retryInMs: INFRASTRUCTURE_RETRY_MS } : undefined);
      } catch (recordErr) {
        // Not recorded either: the run stays open without a supervisor, and the reaper closes it, uncounted.
        if (!fault || !infrastructureFault(recordErr)) throw recordErr;
      }
      return { step: 'spawn', action: 'spawn_failed', task_id: task.id, run_id: claim.identity.runId, detail: reason, ...(fault && { fault }) };
    }
  } catch (err) {
    if (err instanceof Refused) return null; // another dispatcher claimed it first
    throw err;
  }
}
