import { addLastRun, countRunning, runningFactsOf, taskFactsOf, type RunningColumns, type TaskFactColumns } from '../core/facts.js';
import { FINISHED_SQL } from '../core/sql.js';
import { OPEN_STATUSES, type Status } from '../core/types.js';
import type { BoardFacts, ProcessProbe, RunningFacts, TaskFacts } from '../port/types.js';
import type { Tx } from './tx.js';

/**
 * The facts diagnostics judge by (src/store/diagnostics.ts on PostgreSQL), read in the one snapshot
 * of the read transaction. Only open tasks are read (through the status index), with the few events,
 * comments and runs each rule needs: the cost follows the work in progress, not the history. Whether
 * a process is alive is asked of `probe` here, once, so that the rules stay pure functions of these
 * facts and the clock. A running task's run is read with the task, in the same query.
 *
 * The facts are the same as SQLite's: those only a board file has (whether its folder can be written,
 * its disk) are not facts of the board but asked of the file system by diagnostics/board.ts, for
 * SQLite boards only. The tasks come in no stated order, as on SQLite (the findings are sorted):
 * putting 60,000 open tasks in SQLite's plan's order would cost more than reading them.
 */

const OPEN_SQL = `(${OPEN_STATUSES.map((s) => `'${s}'`).join(', ')})`;

/** A task's own columns, its running columns, and the run a running task points at (null when there is none). */
interface TaskFactsRow extends TaskFactColumns, RunningColumns {
  run_status: 'running' | 'ended' | null;
  run_supervisor_pid: number | null;
  run_started_at: number | null;
}

/** `recentSince`: block events older than this matter only for tasks that are blocked now. */
export async function loadBoardFacts(tx: Tx, probe: ProcessProbe, recentSince: number): Promise<BoardFacts> {
  const rows = await tx.rows<TaskFactsRow>(
    `SELECT t.id, t.title, t.status, t.assignee, t.status_reason, t.consecutive_failures, t.max_retries, t.updated_at,
            t.claim_lock, t.current_run_id, t.claim_expires, t.last_heartbeat_at, t.started_at, t.worker_pid,
            r.status AS run_status, r.supervisor_pid AS run_supervisor_pid, r.started_at AS run_started_at
     FROM tasks t LEFT JOIN task_runs r ON t.status = 'running' AND r.id = t.current_run_id AND r.task_id = t.id
     WHERE t.status IN ${OPEN_SQL}`,
  );
  const facts = new Map<string, TaskFacts>();
  for (const row of rows) {
    facts.set(row.id, taskFactsOf(row, row.status === 'running' ? runningFacts(probe, row) : null));
  }

  const parents = await tx.rows<{ child_id: string; id: string; status: Status }>(
    `SELECT l.child_id, p.id, p.status FROM tasks c JOIN task_links l ON l.child_id = c.id JOIN tasks p ON p.id = l.parent_id
     WHERE c.status = 'todo' AND p.status NOT IN ${FINISHED_SQL} ORDER BY l.child_id, p.id`,
  );
  for (const { child_id, id, status } of parents) facts.get(child_id)?.unfinished_parents.push({ id, status });

  const events = await tx.rows<{ task_id: string; kind: 'blocked' | 'gave_up' | 'unblocked'; payload: Record<string, unknown>; created_at: number }>(
    `SELECT e.task_id, e.kind, e.payload, e.created_at FROM tasks t JOIN task_events e ON e.task_id = t.id
     WHERE t.status IN ${OPEN_SQL} AND e.kind IN ('blocked', 'gave_up', 'unblocked') AND (t.status = 'blocked' OR e.created_at >= $1)
     ORDER BY e.task_id, e.id`,
    [recentSince],
  );
  for (const { task_id, kind, payload, created_at } of events) facts.get(task_id)?.block_events.push({ kind, payload, created_at });

  const comments = await tx.rows<{ task_id: string; at: number }>(
    `SELECT c.task_id, max(c.created_at) AS at FROM task_comments c JOIN tasks t ON t.id = c.task_id WHERE t.status = 'blocked' GROUP BY c.task_id`,
  );
  for (const { task_id, at } of comments) facts.get(task_id)!.last_comment_at = at;

  // The cooldown as the event has it (a number, as SQLite's json_extract gives it): jsonb is read back as its JSON value.
  const lastRuns = await tx.rows<{ task_id: string; outcome: string | null; error: string | null; exit_code: number | null; cooldown_until: number | null }>(
    `SELECT t.id AS task_id, r.outcome, r.error, r.exit_code,
            (SELECT e.payload -> 'cooldown_until' FROM task_events e WHERE e.run_id = r.id AND e.kind = 'rate_limited' ORDER BY e.id LIMIT 1) AS cooldown_until
     FROM tasks t JOIN task_runs r ON r.id = (SELECT max(id) FROM task_runs WHERE task_id = t.id)
     WHERE t.status IN ('blocked', 'ready')`,
  );
  for (const { task_id, cooldown_until, ...run } of lastRuns) addLastRun(facts.get(task_id)!, run, cooldown_until);
  return { tasks: [...facts.values()], runningByAssignee: countRunning(facts.values()) };
}

function runningFacts(probe: ProcessProbe, row: TaskFactsRow): RunningFacts {
  const run = row.run_status === null ? undefined : { status: row.run_status, supervisor_pid: row.run_supervisor_pid, started_at: row.run_started_at! };
  return runningFactsOf(row, run, probe);
}
