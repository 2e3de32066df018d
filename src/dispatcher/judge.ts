import { claimHost, identityOf, noWorkerRecorded, type RunIdentity } from '../core/run.js';
import { recordingSilenceMs } from '../faults.js';
import type { RunRow, TaskRow } from '../core/types.js';
import type { TickContext } from './context.js';
import { lastHeardAt, pastGrace, staleSilence } from '../core/health.js';

/** What a running task's state says should happen to it. */
export interface Judgement {
  identity: RunIdentity;
  run: RunRow;
  verdict: 'healthy' | 'extend' | 'reclaim' | 'stale';
  hostLocal: boolean;
  supervisorAlive: boolean;
  /** No worker of the run was ever recorded (core/run.ts noWorkerRecorded), and no supervisor is alive here to be stuck before starting one: taking it back is not counted. */
  neverLaunched: boolean;
  heartbeatStale: boolean;
  /** For the event: what was seen. */
  payload: Record<string, unknown>;
  detail: string;
}

/**
 * How long a long-lived dispatcher watches a run's silence before it believes an age it first read
 * from the wall clock: a minute (a live run is heard from well within that: output bridged, a
 * heartbeat, its exit), or the output bridge's interval if longer, never past MAX_STALE itself.
 */
function firstSightWatchMs(settings: Pick<TickContext['settings'], 'heartbeatMaxStaleSeconds' | 'heartbeatBridgeSeconds'>): number {
  return Math.min(settings.heartbeatMaxStaleSeconds * 1000, Math.max(60_000, settings.heartbeatBridgeSeconds * 1000));
}

/**
 * The decision for a running task, shared by the dispatcher's lease and stale steps and by
 * `kanban reclaim --stale`. An expired lease is extended only when the claim is this host's, its
 * supervisor is alive, and the newer of its last heartbeat and its start is younger than
 * KANBAN_HEARTBEAT_MAX_STALE_SECONDS; otherwise the task is reclaimed. A lease that has not expired
 * is `stale` when the run is older than KANBAN_STALE_TIMEOUT_SECONDS and silent for MAX_STALE.
 */
export async function judgeRunningTask(ctx: TickContext, task: TaskRow): Promise<Judgement | null> {
  const identity = identityOf(task);
  const run = identity && (await ctx.board.tasks.run(identity.taskId, identity.runId));
  if (!identity || !run) return null;
  const hostLocal = claimHost(identity.claimLock) === ctx.host;
  const supervisorAlive = hostLocal && ctx.isRunProcess(run.supervisor_pid, identity);
  const liveAt = lastHeardAt({ last_heartbeat_at: task.last_heartbeat_at, started_at: task.started_at ?? run.started_at })!;
  const silentMs = ctx.elapsed.since(`heard:${run.id}`, liveAt, ctx.now);
  // A dispatcher that started after a step of the wall clock sees every stamp written before it as
  // old: silence it has not watched itself for a while (elapsed.ts) is not taken on trust.
  const maxStaleMs = ctx.settings.heartbeatMaxStaleSeconds * 1000;
  const heartbeatStale = staleSilence(silentMs, maxStaleMs) && ctx.elapsed.watchedFor(`heard:${run.id}`, firstSightWatchMs(ctx.settings));
  const payload = {
    claim_expires: task.claim_expires,
    last_heartbeat_at: task.last_heartbeat_at,
    worker_pid: task.worker_pid,
    heartbeat_stale: heartbeatStale,
    host_local: hostLocal,
    supervisor_alive: supervisorAlive,
  };
  // A live supervisor of this host that never got to start its worker is stuck in its own start (a
  // hook, a workspace): that is the task's, counted, or it would loop forever.
  const neverLaunched = noWorkerRecorded(run) && !supervisorAlive;
  const base = { identity, run, hostLocal, supervisorAlive, neverLaunched, heartbeatStale, payload };
  // The lease was set lease_ms before it ends: how long ago that was, step-proof, says whether it ran out.
  const expired = task.claim_expires !== null && pastGrace(ctx.elapsed.since(`lease:${run.id}`, task.claim_expires - run.lease_ms, ctx.now), run.lease_ms);
  const runningMs = ctx.elapsed.ageOfStart(`started:${run.id}`, run.started_at, ctx.now);
  if (expired) {
    // A supervisor not seen (yet) on this host is the reaper's to judge, once the crash grace has
    // passed: it may still be starting, and the reaper tells a worker that never started (not counted).
    if (hostLocal && !supervisorAlive && !pastGrace(runningMs, ctx.settings.crashGraceSeconds * 1000)) {
      return { ...base, verdict: 'healthy', detail: 'lease expired, its supervisor not seen yet: within the crash grace' };
    }
    if (hostLocal && supervisorAlive && !heartbeatStale) return { ...base, verdict: 'extend', detail: `lease expired, supervisor alive, heard from ${Math.round(silentMs / 1000)}s ago` };
    // Its worker has ended and the supervisor is still at work: recording the exit through a locked,
    // full or read-only board (it keeps trying for RECORD_PATIENCE_MS). Taking the run back would
    // turn a success into a failure and run the task twice.
    if (hostLocal && supervisorAlive && run.worker_pid !== null && !ctx.isRunProcess(run.worker_pid, identity) && silentMs < recordingSilenceMs(maxStaleMs)) {
      return { ...base, verdict: 'extend', detail: `lease expired, worker ended, its supervisor is recording the exit` };
    }
    const why =
      run.supervisor_pid === null ? 'its supervisor never started' : neverLaunched ? 'no worker was started' : !hostLocal ? 'claimed on another host' : !supervisorAlive ? 'its supervisor is gone' : `silent for ${Math.round(silentMs / 1000)}s`;
    return { ...base, verdict: 'reclaim', detail: `lease expired, ${why}` };
  }
  const staleTimeoutMs = ctx.settings.staleTimeoutSeconds * 1000;
  if (staleTimeoutMs > 0 && runningMs > staleTimeoutMs && heartbeatStale) {
    return { ...base, verdict: 'stale', detail: `running ${Math.round(runningMs / 1000)}s, silent for ${Math.round(silentMs / 1000)}s` };
  }
  return { ...base, verdict: 'healthy', detail: 'healthy' };
}
