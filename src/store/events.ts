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

interface StoredEvent extends Omit<EventRow, 'payload'> {
  payload: string;
}

export function eventsForTask(store: Store, taskId: string): EventRow[] {
  const rows = store.stmt('SELECT * FROM task_events WHERE task_id = ? ORDER BY id').all(taskId) as StoredEvent[];
  return rows.map((row) => ({ ...row, payload: JSON.parse(row.payload) as Record<string, unknown> }));
}
