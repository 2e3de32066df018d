import type { Store } from '../../src/store/db.js';
import type { RunRow, TaskRow } from '../../src/core/types.js';

/**
 * The SQLite factory's test hooks (the conformance suite's `snapshot` and `force`, and checks only a
 * SQLite board has): the one module outside the adapter's own tests that reads or writes the board
 * with SQL. Tests use these, the store's functions or the port, never SQL of their own.
 */

/** PRAGMA integrity_check says ok: a crash, a race or a full disk left the file whole. */
export function integrityOk(store: Store): boolean {
  return store.db.pragma('integrity_check', { simple: true }) === 'ok';
}

/** Where the named event cursor stands (undefined: not started yet). */
export function cursorOf(store: Store, name: string): number | undefined {
  return store.db.prepare('SELECT event_id FROM event_cursors WHERE name = ?').pluck().get(name) as number | undefined;
}

/** How many rows `table` has (a count the port has no reason to offer: every run, every event). */
export function rowCount(store: Store, table: 'tasks' | 'task_runs' | 'task_events'): number {
  return store.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
}

/** Every row of every table, for asserting that a refused operation wrote nothing. */
export function dumpBoard(store: Store): Record<string, unknown[]> {
  const tables = ['tasks', 'task_links', 'task_runs', 'task_events', 'task_comments'];
  return Object.fromEntries(tables.map((t) => [t, store.db.prepare(`SELECT * FROM ${t} ORDER BY 1, 2`).raw().all()]));
}

/**
 * Test hook: sets columns of a task's row directly, for a state the transitions would not make (a
 * ghost running task, a tripped breaker, a stamp from another clock). The one place tests write a
 * task's row; the conformance suite of a second backend gives the same hook.
 */
export function forceTask(store: Store, id: string, patch: Partial<TaskRow>): void {
  const columns = Object.keys(patch);
  store.db.prepare(`UPDATE tasks SET ${columns.map((c) => `${c} = @${c}`).join(', ')} WHERE id = @id`).run({ ...patch, id });
}

/** Test hook: sets columns of a run's row directly (a supervisor pid that is not alive, a stamp from another clock). */
export function forceRun(store: Store, runId: number, patch: Partial<RunRow>): void {
  const columns = Object.keys(patch);
  store.db.prepare(`UPDATE task_runs SET ${columns.map((c) => `${c} = @${c}`).join(', ')} WHERE id = @id`).run({ ...patch, id: runId });
}
