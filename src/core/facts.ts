/**
 * The facts diagnostics judge by (port/types.ts BoardFacts), put together from the rows a backend
 * reads, the same for every backend: pure, but for `probe`, asked once per running task whether its
 * supervisor is alive, so that the rules stay pure functions of these facts and the clock.
 */
import { claimHost } from './run.js';
import type { ProcessProbe, RunningFacts, TaskFacts } from '../port/types.js';

/** The columns of a running task its facts are made of. */
export type RunningColumns = { id: string } & Pick<RunningFacts, 'claim_lock' | 'current_run_id' | 'claim_expires' | 'last_heartbeat_at' | 'started_at' | 'worker_pid'>;

/**
 * A running task's facts: `run` is the run it points at (undefined: none found). Its supervisor is
 * asked after only when the claim is this host's.
 */
export function runningFactsOf(task: RunningColumns, run: RunningFacts['run'] | undefined, probe: ProcessProbe): RunningFacts {
  const { id, claim_lock, current_run_id, claim_expires, last_heartbeat_at, started_at, worker_pid } = task;
  const hostLocal = claim_lock !== null && claimHost(claim_lock) === probe.host;
  const supervisorAlive = hostLocal && run != null && current_run_id !== null && probe.isRunProcess(run.supervisor_pid, { taskId: id, runId: current_run_id });
  return { claim_lock, current_run_id, claim_expires, last_heartbeat_at, started_at, worker_pid, run: run ?? null, host_local: hostLocal, supervisor_alive: supervisorAlive };
}

/** A task's own columns its facts start from; the rest is filled in as the backend reads it. */
export type TaskFactColumns = Pick<TaskFacts, 'id' | 'title' | 'status' | 'assignee' | 'status_reason' | 'consecutive_failures' | 'max_retries' | 'updated_at'>;

/** A task's facts before its links, events, comments and runs are read. */
export function taskFactsOf(task: TaskFactColumns, running: RunningFacts | null): TaskFacts {
  const { id, title, status, assignee, status_reason, consecutive_failures, max_retries, updated_at } = task;
  return { id, title, status, assignee, status_reason, consecutive_failures, max_retries, updated_at, unfinished_parents: [], block_events: [], last_comment_at: null, last_run: null, cooldown_until: null, running };
}

/** Running tasks per assignee (unassigned ones not counted). */
export function countRunning(facts: Iterable<TaskFacts>): Record<string, number> {
  const byAssignee: Record<string, number> = {};
  for (const { running, assignee } of facts) if (running && assignee !== null) byAssignee[assignee] = (byAssignee[assignee] ?? 0) + 1;
  return byAssignee;
}

/**
 * A blocked or ready task's last run; a ready task whose last run was rate limited is held until
 * the cooldown that run set (`cooldownUntil`, its `rate_limited` event's).
 */
export function addLastRun(task: TaskFacts, run: NonNullable<TaskFacts['last_run']>, cooldownUntil: number | null): void {
  task.last_run = run;
  if (task.status === 'ready' && run.outcome === 'rate_limited') task.cooldown_until = cooldownUntil;
}
