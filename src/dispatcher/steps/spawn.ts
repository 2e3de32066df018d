import { errorMessage, Refused } from '../../errors.js';
import { infrastructureFault, INFRASTRUCTURE_RETRY_MS } from '../../faults.js';
import type { TaskRow } from '../../core/types.js';
import type { ClaimResult } from '../../port/types.js';
import { failurePolicyOf } from '../../settings.js';
import type { TickAction, TickContext } from '../context.js';
import { respawnGuard } from '../guard.js';
import { formatWhen } from '../../time.js';

/** How far down a ready column a tick looks for something it can start (past tasks it must skip). */
const READY_SCAN_LIMIT = 5_000;
/**
 * How many tasks that may start one claim chooses among: it takes the first another dispatcher has
 * not taken, in one call, instead of a call for each task lost (issue 15: claimers reading the same
 * queue passed each other's tasks one round trip at a time, and the one behind rarely caught up).
 */
const CLAIM_WINDOW = 16;

/** A ready task that may start now, and the profile it runs with. */
interface Candidate {
  task: TaskRow;
  assignee: string;
  cap: number | undefined;
}

/**
 * Ready tasks by priority, then age: each gets its profile (the default assignee for an unassigned
 * one, given in the claim), within the board's cap and its profile's, unless a rate-limit cooldown
 * holds it; then the first of the next few is claimed and its supervisor started detached. The
 * counts read here only save work: the caps that hold are checked again inside each claim's
 * transaction, where other dispatchers cannot race it. A start that fails closes the run `spawn_failed`.
 */
export async function spawnStep(ctx: TickContext): Promise<TickAction[]> {
  const actions: TickAction[] = [];
  const counts = await ctx.board.dispatch.runningCounts();
  let running = counts.total;
  const skip = (task: TaskRow, detail: string) => actions.push({ step: 'spawn', action: 'skipped', task_id: task.id, detail });
  const queue = await ctx.board.dispatch.readyQueue(READY_SCAN_LIMIT);
  let next = 0;
  /** The tasks chosen to start, not claimed yet: they count against the caps as if they ran. */
  let window: Candidate[] = [];
  const inWindow = (assignee: string) => window.filter((c) => c.assignee === assignee).length;
  const capSkip = (c: Candidate) => skip(c.task, `profile ${c.assignee} is at its cap of ${c.cap}`);
  const started = (c: Candidate) => {
    running++;
    counts.byAssignee.set(c.assignee, (counts.byAssignee.get(c.assignee) ?? 0) + 1);
  };

  /**
   * The next ready task that may start, said and passed when it may not; 'wait' when its profile is
   * full only with tasks of the window, which may not all start (demoted, lost, failed): it is judged
   * again once they are claimed.
   */
  const nextCandidate = async (): Promise<Candidate | 'wait' | null> => {
    while (next < queue.length) {
      const task = queue[next++]!;
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
      const candidate = { task, assignee, cap: profile.max_in_progress };
      if (candidate.cap !== undefined) {
        const runs = counts.byAssignee.get(assignee) ?? 0;
        if (runs >= candidate.cap) {
          capSkip(candidate);
          continue;
        }
        if (runs + inWindow(assignee) >= candidate.cap) {
          next--;
          return 'wait';
        }
      }
      const guard = await respawnGuard(ctx, task);
      if (guard) {
        actions.push({ step: 'spawn', action: 'guarded', task_id: task.id, detail: `${guard.reason === 'rate_limited' ? 'rate limited' : guard.reason === 'spawn_failed' ? 'could not start' : `${guard.reason}, not counted (the machine's fault)`} until ${formatWhen(guard.clearAt, ctx.now)}` });
        continue;
      }
      return candidate;
    }
    return null;
  };

  for (;;) {
    while (window.length < Math.min(CLAIM_WINDOW, ctx.settings.maxInProgress - running)) {
      const candidate = await nextCandidate();
      if (candidate === null || candidate === 'wait') break;
      window.push(candidate);
    }
    if (window.length === 0) break;
    if (ctx.dryRun) {
      for (const c of window.splice(0)) {
        actions.push({ step: 'spawn', action: 'spawned', task_id: c.task.id, detail: c.task.assignee ? c.assignee : `${c.assignee} (default assignee)` });
        started(c);
      }
      continue;
    }
    const answer = await claimFirst(ctx, window);
    if (!answer) {
      window = []; // every one was taken by another dispatcher
      continue;
    }
    const candidate = window[answer.index]!;
    window = window.slice(answer.index + 1);
    const { claim } = answer;
    if (!claim.claimed) {
      if (claim.atCap === 'board') break; // another dispatcher filled the board meanwhile
      if (claim.atCap === 'profile') {
        counts.byAssignee.set(candidate.assignee, candidate.cap!);
        window.filter((c) => c.assignee === candidate.assignee).forEach(capSkip);
        window = window.filter((c) => c.assignee !== candidate.assignee);
        continue;
      }
      actions.push({ step: 'spawn', action: 'demoted', task_id: candidate.task.id, detail: claim.reason });
      continue;
    }
    const action = await launch(ctx, claim, candidate.assignee);
    actions.push(action);
    if (action.fault) break; // the machine failed: no more starts this tick
    if (action.action === 'spawned') started(candidate);
  }
  // In the queue's order, as a person reads them (a window's skips are said before its claims).
  const place = new Map(queue.map((task, i) => [task.id, i]));
  return actions.sort((a, b) => place.get(a.task_id)! - place.get(b.task_id)!);
}

/** The first of `window` no other dispatcher has taken, claimed: its answer and its place in the window (null: every one was taken). */
async function claimFirst(ctx: TickContext, window: readonly Candidate[]): Promise<{ index: number; claim: ClaimResult } | null> {
  const caps = (c: Candidate) => ({ board: ctx.settings.maxInProgress, ...(c.cap !== undefined && { profile: c.cap }) });
  const candidates = window.map((c) => ({ taskId: c.task.id, profile: c.assignee, caps: caps(c), ...(c.task.assignee === null && { assign: true }) }));
  try {
    const claim = await ctx.board.lease.claimFirst(candidates, { leaseMs: ctx.settings.claimTtlSeconds * 1000 });
    return claim && { index: window.findIndex((c) => c.task.id === claim.task.id), claim };
  } catch (err) {
    if (err instanceof Refused) return null; // another dispatcher claimed it first
    throw err;
  }
}

/** Starts the claimed run's supervisor, detached; a start that fails closes the run `spawn_failed`. */
async function launch(ctx: TickContext, claim: Extract<ClaimResult, { claimed: true }>, assignee: string): Promise<TickAction> {
  const taskId = claim.task.id;
  try {
    const pid = ctx.launch(claim.identity);
    await ctx.board.lease.attachSupervisor(claim.identity, pid);
    return { step: 'spawn', action: 'spawned', task_id: taskId, run_id: claim.identity.runId, detail: `${assignee}, supervisor ${pid}` };
  } catch (err) {
    if (err instanceof Refused) return { step: 'spawn', action: 'spawned', task_id: taskId, run_id: claim.identity.runId, detail: `${assignee}, run already moved on` };
    const reason = `cannot start the supervisor: ${errorMessage(err)}`;
    // The board's folder read-only or full, no process slots: the machine's fault, not the task's.
    const fault = infrastructureFault(err);
    try {
      await ctx.board.lease.recordFailure(claim.identity, 'spawn_failed', reason, failurePolicyOf(ctx.settings), fault ? { retryInMs: INFRASTRUCTURE_RETRY_MS } : undefined);
    } catch (recordErr) {
      // Not recorded either: the run stays open without a supervisor, and the reaper closes it, uncounted.
      if (!fault || !infrastructureFault(recordErr)) throw recordErr;
    }
    return { step: 'spawn', action: 'spawn_failed', task_id: taskId, run_id: claim.identity.runId, detail: reason, ...(fault && { fault }) };
  }
}
