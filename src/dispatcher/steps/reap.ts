import { errorMessage, Refused } from '../../errors.js';
import { INFRASTRUCTURE_RETRY_MS } from '../../faults.js';
import { claimHost, noWorkerRecorded } from '../../core/run.js';
import { failurePolicyOf } from '../../settings.js';
import type { TickAction, TickContext } from '../context.js';
import { processesByRun, processesOfRun, stopRunProcesses } from '../processes.js';
import { pastGrace } from '../../core/health.js';

/** Workers alive this long after their run closed are stopped. */
export const ORPHAN_AFTER_MS = 60_000;
/** ... looked for among the runs that ended this recently (older ones were dealt with by then). */
const ORPHAN_HORIZON_MS = 3_600_000;

/**
 * Always the first step. A run whose supervisor is gone without having recorded the exit (and older
 * than the crash grace) is closed `crashed`, counted, and its worker, if still alive, stopped; one
 * whose worker never started is closed `spawn_failed`, not counted (nothing of the task ran). A worker
 * still alive a minute after its run closed is stopped, and so is any process still carrying the
 * run's identity once its worker is gone.
 */
export async function reap(ctx: TickContext): Promise<TickAction[]> {
  const actions: TickAction[] = [];
  const open = (await ctx.board.dispatch.openRuns()).filter((run) => claimHost(run.claim_lock) === ctx.host);
  // Ages are taken at the time read after the runs: a run another dispatcher claimed since this tick
  // began would otherwise look started "in the future", as after a backward step, hence long ago.
  const now = open.length === 0 ? ctx.now : await ctx.currentTime();
  for (const run of open) {
    if (ctx.isRunProcess(run.supervisor_pid, { taskId: run.task_id, runId: run.id })) continue;
    if (!pastGrace(ctx.elapsed.ageOfStart(`started:${run.id}`, run.started_at, now), ctx.settings.crashGraceSeconds * 1000)) continue;
    // No worker was started: nothing of the task ran (the supervisor could not start, or could not open
    // the board or its log: the machine's fault), so it is not counted. A worker whose pid was never
    // written down is still found by the run's identity in its environment.
    const process = { taskId: run.task_id, runId: run.id };
    const neverStarted = noWorkerRecorded(run) && (run.supervisor_pid === null || processesOfRun(process).length === 0);
    const detail =
      run.supervisor_pid === null ? 'its supervisor never started' : run.worker_pid === null ? `its supervisor ${run.supervisor_pid} is gone, no worker was started` : `its supervisor ${run.supervisor_pid} is gone`;
    if (!ctx.dryRun) {
      try {
        const identity = { taskId: run.task_id, runId: run.id, claimLock: run.claim_lock };
        // Nothing of the task ran when its supervisor never started: that is the machine's fault, not counted.
        if (neverStarted) await ctx.board.lease.recordFailure(identity, 'spawn_failed', `not started: ${detail}`, failurePolicyOf(ctx.settings), { retryInMs: INFRASTRUCTURE_RETRY_MS });
        else await ctx.board.lease.recordFailure(identity, 'crashed', `crashed: ${detail}`, failurePolicyOf(ctx.settings));
      } catch (err) {
        if (err instanceof Refused) continue; // another dispatcher, or the supervisor itself, got there first
        throw err;
      }
      stopRunProcesses(ctx.killer, { ...process, workerPid: run.worker_pid });
    }
    actions.push({ step: 'reap', action: neverStarted ? 'spawn_failed' : 'crashed', task_id: run.task_id, run_id: run.id, detail });
  }
  // What a run left behind once it ended: its worker (the container) still alive, or, when that is
  // gone (killed with its supervisor, say), processes still carrying the run's identity (a sweep of
  // /proc, at most every SWEEP_EVERY_MS).
  let byRun: Map<string, number[]> | null = null;
  for (const run of await ctx.board.dispatch.endedRunsWithWorkers(ctx.now - ORPHAN_HORIZON_MS, ctx.now - ORPHAN_AFTER_MS)) {
    const process = { taskId: run.task_id, runId: run.id };
    if (claimHost(run.claim_lock) !== ctx.host) continue;
    let pids: number[];
    if (ctx.isRunProcess(run.worker_pid, process)) pids = [run.worker_pid!];
    else {
      byRun ??= ctx.killer.sweepDue() ? processesByRun() : new Map<string, number[]>();
      pids = (byRun.get(`${run.task_id}:${run.id}`) ?? []).filter((pid) => pid !== run.supervisor_pid);
    }
    for (const pid of pids) {
      const detail = `${pid === run.worker_pid ? 'worker' : 'process'} ${pid} still alive ${Math.round((ctx.now - run.ended_at!) / 1000)}s after its run ended`;
      if (!ctx.dryRun) {
        ctx.killer.terminate(pid, process);
        try {
          await ctx.board.transitions.note(run.task_id, 'worker_killed', { worker_pid: pid, run_id: run.id, reason: detail });
        } catch (err) {
          actions.push({ step: 'reap', action: 'note_failed', task_id: run.task_id, run_id: run.id, detail: errorMessage(err) });
        }
      }
      actions.push({ step: 'reap', action: 'killed_orphan', task_id: run.task_id, run_id: run.id, detail });
    }
  }
  return actions;
}
