import type { Store } from './db.js';
import { addLastRun, countRunning, runningFactsOf, taskFactsOf } from '../core/facts.js';
import { type Status } from '../core/types.js';
import { FINISHED_SQL } from '../core/sql.js';
import type { BoardFacts, ProcessProbe, RunningFacts, TaskFacts } from '../port/types.js';

/**
 * The facts diagnostics judge by, read in one snapshot. Only open tasks are read (through the
 * status index), with the few events, comments and runs each rule needs: the cost follows the work
 * in progress, not the history. Whether a process is alive is asked of `probe` here, once, so that
 * the rules stay pure functions of these facts and the clock.
 */

const OPEN = "('triage', 'todo', 'ready', 'running', 'blocked', 'scheduled', 'review')";

/** A raw task row, in the order the query selects its columns. */
type TaskRowFacts = [
  id: string,
  title: string,
  status: Status,
  assignee: string | null,
  status_reason: string | null,
  consecutive_failures: number,
  max_retries: number | null,
  updated_at: number,
  claim_lock: string | null,
  current_run_id: number | null,
  claim_expires: number | null,
  last_heartbeat_at: number | null,
  started_at: number | null,
  worker_pid: number | null,
];

/** `recentSince`: block events older than this matter only for tasks that are blocked now. */
export function loadBoardFacts(store: Store, probe: ProcessProbe, recentSince: number): BoardFacts {
  return store.readTxn(() => {
    // Raw rows and one object literal per task: several times faster than row objects on a big board.
    const rows = store
      .stmt(
        `SELECT id, title, status, assignee, status_reason, consecutive_failures, max_retries, updated_at,
                claim_lock, current_run_id, claim_expires, last_heartbeat_at, started_at, worker_pid
         FROM tasks WHERE status IN ${OPEN}`,
      )
      .raw()
      .all() as TaskRowFacts[];
    const facts = new Map<string, TaskFacts>();
    for (const row of rows) {
      const [id, title, status, assignee, status_reason, consecutive_failures, max_retries, updated_at] = row;
      const running = status === 'running' ? runningFacts(store, probe, row) : null;
      facts.set(id, taskFactsOf({ id, title, status, assignee, status_reason, consecutive_failures, max_retries, updated_at }, running));
    }

    const parents = store
      .stmt(
        `SELECT l.child_id, p.id, p.status FROM tasks c JOIN task_links l ON l.child_id = c.id JOIN tasks p ON p.id = l.parent_id
         WHERE c.status = 'todo' AND p.status NOT IN ${FINISHED_SQL} ORDER BY l.child_id, p.id`,
      )
      .all() as Array<{ child_id: string; id: string; status: Status }>;
    for (const { child_id, id, status } of parents) facts.get(child_id)?.unfinished_parents.push({ id, status });

    const events = store
      .stmt(
        `SELECT e.task_id, e.kind, e.payload, e.created_at FROM tasks t JOIN task_events e ON e.task_id = t.id
         WHERE t.status IN ${OPEN} AND e.kind IN ('blocked', 'gave_up', 'unblocked') AND (t.status = 'blocked' OR e.created_at >= ?)
         ORDER BY e.task_id, e.id`,
      )
      .all(recentSince) as Array<{ task_id: string; kind: 'blocked' | 'gave_up' | 'unblocked'; payload: string; created_at: number }>;
    for (const e of events) facts.get(e.task_id)?.block_events.push({ kind: e.kind, payload: JSON.parse(e.payload) as Record<string, unknown>, created_at: e.created_at });

    const comments = store
      .stmt(`SELECT c.task_id, max(c.created_at) AS at FROM task_comments c JOIN tasks t ON t.id = c.task_id WHERE t.status = 'blocked' GROUP BY c.task_id`)
      .all() as Array<{ task_id: string; at: number }>;
    for (const { task_id, at } of comments) facts.get(task_id)!.last_comment_at = at;

    const lastRuns = store
      .stmt(
        `SELECT t.id AS task_id, r.outcome, r.error, r.exit_code,
                (SELECT json_extract(e.payload, '$.cooldown_until') FROM task_events e WHERE e.run_id = r.id AND e.kind = 'rate_limited') AS cooldown_until
         FROM tasks t JOIN task_runs r ON r.id = (SELECT max(id) FROM task_runs WHERE task_id = t.id)
         WHERE t.status IN ('blocked', 'ready')`,
      )
      .all() as Array<{ task_id: string; outcome: string | null; error: string | null; exit_code: number | null; cooldown_until: number | null }>;
    for (const { task_id, cooldown_until, ...run } of lastRuns) addLastRun(facts.get(task_id)!, run, cooldown_until);
    return { tasks: [...facts.values()], runningByAssignee: countRunning(facts.values()) };
  });
}

function runningFacts(store: Store, probe: ProcessProbe, row: TaskRowFacts): RunningFacts {
  const [id, , , , , , , , claim_lock, current_run_id, claim_expires, last_heartbeat_at, started_at, worker_pid] = row;
  const run =
    current_run_id === null
      ? undefined
      : (store.stmt('SELECT status, supervisor_pid, started_at FROM task_runs WHERE id = ? AND task_id = ?').get(current_run_id, id) as RunningFacts['run'] | undefined);
  return runningFactsOf({ id, claim_lock, current_run_id, claim_expires, last_heartbeat_at, started_at, worker_pid }, run, probe);
}
