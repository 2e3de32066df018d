import type { Store } from './db.js';
import type { EventRow } from './types.js';

/** Appends one event; every change to a task calls this inside the change's transaction. */
export function appendEvent(
  store: Store,
  taskId: string,
  kind: string,
  payload: Record<string, unknown> = {},
  runId: number | null = null,
): void {
  store
    .stmt('INSERT INTO task_events (task_id, run_id, kind, payload, created_at) VALUES (?, ?, ?, ?, ?)')
    .run(taskId, runId, kind, JSON.stringify(payload), store.clock.now());
}

/** An event on its own, in its own transaction (notes about a task that change none of its fields). */
export function recordEvent(store: Store, taskId: string, kind: string, payload: Record<string, unknown> = {}): void {
  store.writeTxn(() => appendEvent(store, taskId, kind, payload));
}

/**
 * SQL: the kind of task `t`'s latest block, `gave_up` (the breaker's: the dispatcher may recover it)
 * or `blocked` (sticky: only a person unblocks it). Every way into blocked writes one of the two.
 */
export const LAST_BLOCK_KIND_SQL = "(SELECT e.kind FROM task_events e WHERE e.task_id = t.id AND e.kind IN ('blocked', 'gave_up') ORDER BY e.id DESC LIMIT 1)";

export interface StoredEvent extends Omit<EventRow, 'payload'> {
  payload: string;
}

/** An event row as read, its payload parsed. */
export function parseEvent(row: StoredEvent): EventRow {
  return { ...row, payload: JSON.parse(row.payload) as Record<string, unknown> };
}

export function eventsForTask(store: Store, taskId: string): EventRow[] {
  const rows = store.stmt('SELECT * FROM task_events WHERE task_id = ? ORDER BY id').all(taskId) as StoredEvent[];
  return rows.map(parseEvent);
}
