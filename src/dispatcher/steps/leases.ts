import { Refused } from '../../errors.js';
import type { FailurePolicy } from '../../core/breaker.js';
import { claimHost, type RunIdentity } from '../../core/run.js';
import { failurePolicyOf } from '../../settings.js';
import { stopRunProcesses } from '../processes.js';
import type { TickAction, TickContext } from '../context.js';
import { judgeRunningTask, type Judgement } from '../judge.js';

/**
 * Expired leases: extended for a live, recently heard-from supervisor on this host (`claim_extended`);
 * otherwise the run is taken back (`reclaimed`, counted: it went silent, unless it was never launched)
 * and its worker stopped.
 */
export function expiredLeases(ctx: TickContext): Promise<TickAction[]> {
  return judgeAll(ctx, ['extend', 'reclaim']);
}

/** Runs older than the stale timeout and silent too long: taken back (`stale`, counted). */
export function staleRuns(ctx: TickContext): Promise<TickAction[]> {
  return judgeAll(ctx, ['stale']);
}

async function judgeAll(ctx: TickContext, verdicts: Array<Judgement['verdict']>): Promise<TickAction[]> {
  const actions: TickAction[] = [];
  for (const task of await ctx.board.dispatch.runningTasks()) {
    const judgement = await judgeRunningTask(ctx, task);
    if (!judgement || !verdicts.includes(judgement.verdict)) continue;
    const step = judgement.verdict === 'stale' ? 'stale' : 'leases';
    const action = judgement.verdict === 'extend' ? 'extended' : judgement.verdict === 'stale' ? 'stale' : 'reclaimed';
    if (!ctx.dryRun) {
      try {
        if (judgement.verdict === 'extend') await ctx.board.lease.extend(judgement.identity, task.claim_expires, { last_heartbeat_at: task.last_heartbeat_at });
        // Taken back for silence: counted, so a worker that hangs forever cannot loop forever. A run
        // never launched is not: nothing of the task ran (its claimer died, the machine's fault).
        else {
          const counted = judgement.neverLaunched ? undefined : failurePolicyOf(ctx.settings);
          await takeBack(ctx, judgement, judgement.verdict === 'stale' ? 'stale' : 'reclaimed', task.claim_expires, { detail: judgement.detail, ...(judgement.neverLaunched && { never_launched: true }) }, counted);
        }
      } catch (err) {
        if (err instanceof Refused) continue; // a heartbeat or another dispatcher got there first: it wins
        throw err;
      }
    }
    actions.push({ step, action, task_id: task.id, run_id: judgement.identity.runId, detail: judgement.detail });
  }
  return actions;
}

/**
 * Closes the run (compare-and-set on the lease as judged), then, only if that worked, stops the
 * worker: a heartbeat that lands in between keeps the worker alive and its task.
 */
export async function takeBack(
  ctx: Pick<TickContext, 'board' | 'killer' | 'host'>,
  judgement: Judgement,
  outcome: 'reclaimed' | 'stale',
  expectedClaimExpires: number | null,
  extra: Record<string, unknown> = {},
  counted?: FailurePolicy,
): Promise<void> {
  await ctx.board.lease.release(judgement.identity, { outcome, expectedClaimExpires, payload: { ...judgement.payload, ...extra }, ...(counted && { counted }) });
  await stopClosedRun(ctx, judgement.identity);
}

/**
 * Stops the worker of a run just closed, when the run is this host's (another host's processes are
 * beyond reach: its writes are refused all the same). The run is read again: its worker may have been
 * recorded since it was judged. A live supervisor is spared: it records the exit of the worker it sees
 * stopped, and a run already closed only gets the exit code.
 */
export async function stopClosedRun(ctx: Pick<TickContext, 'board' | 'killer' | 'host'>, identity: RunIdentity): Promise<void> {
  if (claimHost(identity.claimLock) !== ctx.host) return;
  const run = await ctx.board.tasks.run(identity.taskId, identity.runId);
  stopRunProcesses(ctx.killer, { ...identity, workerPid: run?.worker_pid ?? null, spare: run?.supervisor_pid ?? null });
}
