import { Refused } from '../errors.js';
import { cooldownFrom, recoveryLimit, requireDueSchedule, requireGhost, runningCountsOf } from '../core/dispatch.js';
import { identityOf, NO_CLAIM } from '../core/run.js';
import { FINISHED_SQL, LAST_BLOCK_KIND_SQL } from '../core/sql.js';
import type { RunRow, TaskRow } from '../core/types.js';
import { promoteIfUnblocked } from './links.js';
import { appendEvent, endOpenRun, getTaskRow, readyOrTodo, requireTaskRow, updateTask } from './rows.js';
import { runById } from './runs.js';
import type { Tx } from './tx.js';

/**
 * The queries and transitions only the dispatcher makes (src/store/dispatch.ts on PostgreSQL). Every
 * query is bounded by open work (an index on status, open runs, or recently ended runs), never by the
 * size of the history. Task ids order the same under every collation (the schema holds them to
 * `t_` and eight hex digits), so `ORDER BY id` needs no COLLATE to match SQLite's byte order.
 */

export async function runningTasks(tx: Tx): Promise<TaskRow[]> {
  return tx.rows<TaskRow>("SELECT * FROM tasks WHERE status = 'running' ORDER BY id");
}

export async function openRuns(tx: Tx): Promise<RunRow[]> {
  return tx.rows<RunRow>("SELECT * FROM task_runs WHERE status = 'running' ORDER BY id");
}

export async function dueSchedules(tx: Tx, now: number): Promise<TaskRow[]> {
  return tx.rows<TaskRow>("SELECT * FROM tasks WHERE status = 'scheduled' AND scheduled_until <= $1 ORDER BY scheduled_until, id", [now]);
}

/** todo tasks none of whose parents is unfinished. */
export async function promotableTodos(tx: Tx): Promise<TaskRow[]> {
  return tx.rows<TaskRow>(
    `SELECT * FROM tasks t WHERE status = 'todo' AND NOT EXISTS (
       SELECT 1 FROM task_links l JOIN tasks p ON p.id = l.parent_id WHERE l.child_id = t.id AND p.status NOT IN ${FINISHED_SQL})
     ORDER BY priority DESC, created_at, id`,
  );
}

/**
 * Blocked tasks the dispatcher may recover (only `taskId`, when given): the last block is not sticky
 * (it was the breaker's `gave_up`, not a person's or a worker's `blocked`) and the failure counter is
 * below the limit now in force (someone raised it). In a write, the rows read are locked.
 */
export async function recoverableBlocked(tx: Tx, boardLimit: number, taskId?: string): Promise<TaskRow[]> {
  return tx.rows<TaskRow>(
    `SELECT * FROM tasks t WHERE status = 'blocked' AND consecutive_failures < coalesce(max_retries, $1::double precision)
       AND ${LAST_BLOCK_KIND_SQL} = 'gave_up'${taskId === undefined ? '' : ' AND id = $2'}
     ORDER BY id${tx.forUpdate}`,
    taskId === undefined ? [boardLimit] : [boardLimit, taskId],
  );
}

/** Ready tasks in the order they should run: priority, then age (the first `limit`). */
export async function readyQueue(tx: Tx, limit: number): Promise<TaskRow[]> {
  return tx.rows<TaskRow>("SELECT * FROM tasks WHERE status = 'ready' ORDER BY priority DESC, created_at, id LIMIT $1", [sqlLimit(limit)]);
}

export async function runningCounts(tx: Tx): Promise<{ total: number; byAssignee: Map<string, number> }> {
  return runningCountsOf(await tx.rows<{ assignee: string | null; n: number }>("SELECT assignee, count(*) AS n FROM tasks WHERE status = 'running' GROUP BY assignee"));
}

export async function lastRun(tx: Tx, taskId: string): Promise<RunRow | undefined> {
  return tx.row<RunRow>('SELECT * FROM task_runs WHERE task_id = $1 ORDER BY id DESC LIMIT 1', [taskId]);
}

/**
 * A run's cooldown, from its outcome's event: a rate limit, or a failure that was not the task's (the
 * config's or the machine's) and is tried again later: when it was set and when it ends. Null when it has none.
 */
export async function cooldownOf(tx: Tx, runId: number): Promise<{ setAt: number; until: number } | null> {
  const row = await tx.row<{ payload: Record<string, unknown>; created_at: number }>(
    "SELECT payload, created_at FROM task_events WHERE run_id = $1 AND payload ->> 'cooldown_until' IS NOT NULL AND kind <> 'respawn_guarded' ORDER BY id DESC LIMIT 1",
    [runId],
  );
  return cooldownFrom(row);
}

/** Runs that ended between `from` and `to` and had a worker process. */
export async function endedRunsWithWorkers(tx: Tx, from: number, to: number): Promise<RunRow[]> {
  return tx.rows<RunRow>('SELECT * FROM task_runs WHERE worker_pid IS NOT NULL AND ended_at >= $1 AND ended_at < $2 ORDER BY id', [from, to]);
}

// ---- transitions ----

/** todo → ready once every parent is finished (event `promoted`, source `dispatcher`); refused when it is not (any more). */
export async function promoteReady(tx: Tx, taskId: string): Promise<TaskRow> {
  if (!(await promoteIfUnblocked(tx, await requireTaskRow(tx, taskId), { source: 'dispatcher' }))) throw new Refused(`${taskId} is no longer promotable`);
  return (await getTaskRow(tx, taskId))!;
}

/** scheduled → ready (todo while a parent is unfinished) once due; event `unblocked`, source `schedule`. */
export async function releaseSchedule(tx: Tx, taskId: string): Promise<TaskRow> {
  const before = await requireTaskRow(tx, taskId);
  requireDueSchedule(before, tx.now);
  const to = await readyOrTodo(tx, taskId);
  const after = await updateTask(tx, before, { status: to, scheduled_until: null, status_reason: null });
  await appendEvent(tx, taskId, 'unblocked', { from: 'scheduled', to, source: 'schedule', scheduled_until: before.scheduled_until });
  return after;
}

/** A blocked task whose block is not sticky and whose counter is under the limit: back to ready, counter kept. */
export async function recoverBlocked(tx: Tx, taskId: string, boardLimit: number): Promise<TaskRow> {
  const [task] = await recoverableBlocked(tx, boardLimit, taskId);
  if (!task) throw new Refused(`${taskId} is not a recoverable blocked task`);
  const to = await readyOrTodo(tx, taskId);
  const after = await updateTask(tx, task, { status: to, status_reason: null });
  await appendEvent(tx, taskId, 'unblocked', { from: 'blocked', to, source: 'dispatcher', failures: task.consecutive_failures, limit: recoveryLimit(task, boardLimit) });
  return after;
}

/**
 * A task marked running without a usable claim (no lock, no run, or a run already closed): nobody
 * holds it, so it goes back to ready. Any run it still points at is closed `reclaimed`.
 */
export async function reclaimGhost(tx: Tx, taskId: string): Promise<TaskRow> {
  const before = await requireTaskRow(tx, taskId);
  const identity = identityOf(before);
  const run = identity && (await runById(tx, identity.taskId, identity.runId));
  requireGhost(before, run);
  await endOpenRun(tx, taskId, before.current_run_id, { outcome: 'reclaimed', error: 'taken back: no usable claim' });
  const after = await updateTask(tx, before, { ...NO_CLAIM, status: await readyOrTodo(tx, taskId) });
  await appendEvent(tx, taskId, 'reclaimed', { ghost: true, claim_lock: before.claim_lock, current_run_id: before.current_run_id, source: 'user' });
  return after;
}

/**
 * Records, once per cooldown, that a task was not respawned because of it: the event carries the
 * rate-limited run's id, so a later tick sees it was said. Two dispatchers saying it at once: both
 * read that it was not said and both write, so SERIALIZABLE fails one, which runs again and finds it said.
 */
export async function noteRespawnGuarded(tx: Tx, taskId: string, runId: number, payload: Record<string, unknown>): Promise<boolean> {
  const said = await tx.value<number>("SELECT 1 FROM task_events WHERE run_id = $1 AND kind = 'respawn_guarded'", [runId]);
  if (said !== undefined) return false;
  await appendEvent(tx, taskId, 'respawn_guarded', payload, runId);
  return true;
}

/** SQLite's `LIMIT` of a negative number is no limit; PostgreSQL's is `LIMIT NULL`. */
export function sqlLimit(limit: number): number | null {
  return limit < 0 ? null : limit;
}
