import { Refused } from '../errors.js';
import { cooldownFrom, recoveryLimit, requireDueSchedule, requireGhost, requireUnassignedReady, runningCountsOf } from '../core/dispatch.js';
import type { Store } from './db.js';
import { appendEvent } from './events.js';
import { LAST_BLOCK_KIND_SQL } from '../core/sql.js';
import { NO_CLAIM, readyOrTodo } from './lifecycle.js';
import { identityOf } from '../core/run.js';
import { endOpenRun, runById } from './runs.js';
import { getTaskRow, requireTaskRow, updateTask } from './rows.js';
import { promoteIfUnblocked } from './links.js';
import { type RunRow, type TaskRow } from '../core/types.js';
import { FINISHED_SQL } from '../core/sql.js';

/**
 * The queries and transitions only the dispatcher makes. Every query is bounded by open work (an
 * index on status, open runs, or recently ended runs), never by the size of the history.
 */

export function runningTasks(store: Store): TaskRow[] {
  return store.stmt("SELECT * FROM tasks WHERE status = 'running' ORDER BY id").all() as TaskRow[];
}

export function openRuns(store: Store): RunRow[] {
  // Through the partial index of open runs: the planner would rather scan every run ever made (in id order).
  return store.stmt("SELECT * FROM task_runs INDEXED BY task_runs_open WHERE status = 'running' ORDER BY id").all() as RunRow[];
}

export function dueSchedules(store: Store, now: number): TaskRow[] {
  return store.stmt("SELECT * FROM tasks WHERE status = 'scheduled' AND scheduled_until <= ? ORDER BY scheduled_until, id").all(now) as TaskRow[];
}

/** todo tasks none of whose parents is unfinished. */
export function promotableTodos(store: Store): TaskRow[] {
  return store
    .stmt(
      `SELECT * FROM tasks t WHERE status = 'todo' AND NOT EXISTS (
         SELECT 1 FROM task_links l JOIN tasks p ON p.id = l.parent_id WHERE l.child_id = t.id AND p.status NOT IN ${FINISHED_SQL})
       ORDER BY priority DESC, created_at, id`,
    )
    .all() as TaskRow[];
}

/**
 * Blocked tasks the dispatcher may recover (only `taskId`, when given): the last block is not sticky
 * (it was the breaker's `gave_up`, not a person's or a worker's `blocked`) and the failure counter is
 * below the limit now in force (someone raised it).
 */
export function recoverableBlocked(store: Store, boardLimit: number, taskId?: string): TaskRow[] {
  return store
    .stmt(
      `SELECT * FROM tasks t WHERE status = 'blocked' AND consecutive_failures < coalesce(max_retries, @limit)
         AND ${LAST_BLOCK_KIND_SQL} = 'gave_up'${taskId === undefined ? '' : ' AND id = @id'}
       ORDER BY id`,
    )
    .all({ limit: boardLimit, ...(taskId !== undefined && { id: taskId }) }) as TaskRow[];
}

/** Ready tasks in the order they should run: priority, then age (the first `limit`). */
export function readyQueue(store: Store, limit: number): TaskRow[] {
  return store.stmt("SELECT * FROM tasks WHERE status = 'ready' ORDER BY priority DESC, created_at, id LIMIT ?").all(limit) as TaskRow[];
}

export function runningCounts(store: Store): { total: number; byAssignee: Map<string, number> } {
  return runningCountsOf(store.stmt("SELECT assignee, count(*) AS n FROM tasks WHERE status = 'running' GROUP BY assignee").all() as Array<{ assignee: string | null; n: number }>);
}

export function lastRun(store: Store, taskId: string): RunRow | undefined {
  return store.stmt('SELECT * FROM task_runs WHERE task_id = ? ORDER BY id DESC LIMIT 1').get(taskId) as RunRow | undefined;
}

/**
 * A run's cooldown, from its outcome's event: a rate limit, or a failure that was not the task's (the
 * config's or the machine's) and is tried again later: when it was set and when it ends, both on the
 * clock of the process that wrote it. Null when it has none.
 */
export function cooldownOf(store: Store, runId: number): { setAt: number; until: number } | null {
  const row = store
    .stmt("SELECT payload, created_at FROM task_events WHERE run_id = ? AND json_extract(payload, '$.cooldown_until') IS NOT NULL AND kind != 'respawn_guarded' ORDER BY id DESC LIMIT 1")
    .get(runId) as { payload: string; created_at: number } | undefined;
  return cooldownFrom(row && { payload: JSON.parse(row.payload) as Record<string, unknown>, created_at: row.created_at });
}

/** Runs that ended between `from` and `to` and had a worker process. */
export function endedRunsWithWorkers(store: Store, from: number, to: number): RunRow[] {
  return store.stmt('SELECT * FROM task_runs WHERE worker_pid IS NOT NULL AND ended_at >= ? AND ended_at < ? ORDER BY id').all(from, to) as RunRow[];
}

// ---- transitions ----

/** todo → ready once every parent is finished (event `promoted`, source `dispatcher`); refused when it is not (any more). */
export function promoteReady(store: Store, taskId: string): TaskRow {
  return store.writeTxn(() => {
    if (!promoteIfUnblocked(store, requireTaskRow(store, taskId), { source: 'dispatcher' })) throw new Refused(`${taskId} is no longer promotable`);
    return getTaskRow(store, taskId)!;
  });
}

/** scheduled → ready (todo while a parent is unfinished) once due; event `unblocked`, source `schedule`. */
export function releaseSchedule(store: Store, taskId: string): TaskRow {
  return store.writeTxn(() => {
    const before = requireTaskRow(store, taskId);
    requireDueSchedule(before, store.clock.now());
    const to = readyOrTodo(store, taskId);
    const after = updateTask(store, before, { status: to, scheduled_until: null, status_reason: null });
    appendEvent(store, taskId, 'unblocked', { from: 'scheduled', to, source: 'schedule', scheduled_until: before.scheduled_until });
    return after;
  });
}

/** A blocked task whose block is not sticky and whose counter is under the limit: back to ready, counter kept. */
export function recoverBlocked(store: Store, taskId: string, boardLimit: number): TaskRow {
  return store.writeTxn(() => {
    const [task] = recoverableBlocked(store, boardLimit, taskId);
    if (!task) throw new Refused(`${taskId} is not a recoverable blocked task`);
    const to = readyOrTodo(store, taskId);
    const after = updateTask(store, task, { status: to, status_reason: null });
    const limit = recoveryLimit(task, boardLimit);
    appendEvent(store, taskId, 'unblocked', { from: 'blocked', to, source: 'dispatcher', failures: task.consecutive_failures, limit });
    return after;
  });
}

/**
 * A task marked running without a usable claim (no lock, no run, or a run already closed): nobody
 * holds it, so it goes back to ready. Any run it still points at is closed `reclaimed`.
 */
export function reclaimGhost(store: Store, taskId: string): TaskRow {
  return store.writeTxn(() => {
    const before = requireTaskRow(store, taskId);
    const identity = identityOf(before);
    const run = identity && runById(store, identity.taskId, identity.runId);
    requireGhost(before, run);
    endOpenRun(store, taskId, before.current_run_id, { outcome: 'reclaimed', error: 'taken back: no usable claim' });
    const after = updateTask(store, before, { ...NO_CLAIM, status: readyOrTodo(store, taskId) });
    appendEvent(store, taskId, 'reclaimed', { ghost: true, claim_lock: before.claim_lock, current_run_id: before.current_run_id, source: 'user' });
    return after;
  });
}

/** An unassigned ready task gets the configured default assignee (in the caller's transaction: a claim's). */
export function assignDefaultIn(store: Store, before: TaskRow, assignee: string): TaskRow {
  requireUnassignedReady(before);
  const after = updateTask(store, before, { assignee });
  appendEvent(store, before.id, 'assigned', { from: null, to: assignee, source: 'default_assignee' });
  return after;
}

/**
 * Records, once per cooldown, that a task was not respawned because of it: the event carries the
 * rate-limited run's id, so a later tick sees it was said.
 */
export function noteRespawnGuarded(store: Store, taskId: string, runId: number, payload: Record<string, unknown>): boolean {
  return store.writeTxn(() => {
    const said = store.stmt("SELECT 1 FROM task_events WHERE run_id = ? AND kind = 'respawn_guarded'").get(runId);
    if (said) return false;
    appendEvent(store, taskId, 'respawn_guarded', payload, runId);
    return true;
  });
}
