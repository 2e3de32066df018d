import type { Store } from './db.js';
import type { Status } from './types.js';

/** What the diagnostics rules read: open tasks and the few events and comments they judge by. */
export interface TaskFacts {
  id: string;
  title: string;
  status: Status;
  status_reason: string | null;
  consecutive_failures: number;
  updated_at: number;
  unfinished_parents: Array<{ id: string; status: Status }>;
  /** blocked / gave_up / unblocked events in time order: the task's block history. */
  block_events: Array<{ kind: 'blocked' | 'gave_up' | 'unblocked'; payload: Record<string, unknown>; created_at: number }>;
  last_comment_at: number | null;
  last_run: { outcome: string | null; error: string | null; exit_code: number | null } | null;
}

interface TaskRowFacts {
  id: string;
  title: string;
  status: Status;
  status_reason: string | null;
  consecutive_failures: number;
  updated_at: number;
}

/** One read transaction; the cost grows with the open tasks, not with finished history. */
export function loadTaskFacts(store: Store): TaskFacts[] {
  return store.readTxn(() => {
    const tasks = store
      .stmt(`SELECT id, title, status, status_reason, consecutive_failures, updated_at FROM tasks WHERE status NOT IN ('done', 'archived') ORDER BY id`)
      .all() as TaskRowFacts[];
    const facts = new Map<string, TaskFacts>(
      tasks.map((t) => [t.id, { ...t, unfinished_parents: [], block_events: [], last_comment_at: null, last_run: null }]),
    );
    const parents = store
      .stmt(
        `SELECT l.child_id, p.id, p.status FROM tasks c JOIN task_links l ON l.child_id = c.id JOIN tasks p ON p.id = l.parent_id
         WHERE c.status = 'todo' AND p.status NOT IN ('done', 'archived') ORDER BY l.child_id, p.id`,
      )
      .all() as Array<{ child_id: string; id: string; status: Status }>;
    for (const { child_id, id, status } of parents) facts.get(child_id)?.unfinished_parents.push({ id, status });
    const events = store
      .stmt(
        `SELECT e.task_id, e.kind, e.payload, e.created_at FROM tasks t JOIN task_events e ON e.task_id = t.id
         WHERE t.status NOT IN ('done', 'archived') AND e.kind IN ('blocked', 'gave_up', 'unblocked') ORDER BY e.task_id, e.id`,
      )
      .all() as Array<{ task_id: string; kind: 'blocked' | 'gave_up' | 'unblocked'; payload: string; created_at: number }>;
    for (const e of events) facts.get(e.task_id)?.block_events.push({ kind: e.kind, payload: JSON.parse(e.payload) as Record<string, unknown>, created_at: e.created_at });
    const comments = store
      .stmt(`SELECT c.task_id, max(c.created_at) AS at FROM task_comments c JOIN tasks t ON t.id = c.task_id WHERE t.status = 'blocked' GROUP BY c.task_id`)
      .all() as Array<{ task_id: string; at: number }>;
    for (const { task_id, at } of comments) facts.get(task_id)!.last_comment_at = at;
    const runs = store
      .stmt(
        `SELECT r.task_id, r.outcome, r.error, r.exit_code FROM tasks t JOIN task_runs r ON r.id = (SELECT max(id) FROM task_runs WHERE task_id = t.id)
         WHERE t.status = 'blocked'`,
      )
      .all() as Array<{ task_id: string; outcome: string | null; error: string | null; exit_code: number | null }>;
    for (const { task_id, ...run } of runs) facts.get(task_id)!.last_run = run;
    return [...facts.values()];
  });
}
