import type { Store } from './db.js';
import type { EventRow } from '../core/types.js';
import type { RecentEvents } from '../port/types.js';

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

export interface StoredEvent extends Omit<EventRow, 'payload'> {
  payload: string;
}

/** An event row as read, its payload parsed. */
export function parseEvent(row: StoredEvent): EventRow {
  return { ...row, payload: JSON.parse(row.payload) as Record<string, unknown> };
}

function parsed(rows: StoredEvent[]): EventRow[] {
  return rows.map(parseEvent);
}

export function eventsForTask(store: Store, taskId: string): EventRow[] {
  return parsed(store.stmt('SELECT * FROM task_events WHERE task_id = ? ORDER BY id').all(taskId) as StoredEvent[]);
}

/**
 * The board's events, oldest first, with the id a follower goes on from (the latest event's, read in
 * the same snapshot, so nothing committed after it is missed or repeated).
 */
export function recentEvents(store: Store, query: RecentEvents): { events: EventRow[]; cursor: number } {
  const where = query.sinceMs !== undefined ? 'WHERE created_at >= ?' : '';
  const limit = query.last !== undefined ? 'LIMIT ?' : '';
  const params = [...(query.sinceMs !== undefined ? [query.sinceMs] : []), ...(query.last !== undefined ? [query.last] : [])];
  return store.readTxn(() => {
    const rows = store.stmt(`SELECT * FROM task_events ${where} ORDER BY id DESC ${limit}`).all(...params) as StoredEvent[];
    const cursor = store.stmt('SELECT coalesce(max(id), 0) FROM task_events').pluck().get() as number;
    return { events: parsed(rows.reverse()), cursor };
  });
}

/**
 * Events committed after event `afterId`, oldest first, at most `limit`. Ids grow in commit order
 * (one writer at a time, AUTOINCREMENT), so a follower that keeps the last id it saw sees each event once.
 */
export function eventsAfter(store: Store, afterId: number, limit: number): EventRow[] {
  return store.readTxn(() => parsed(store.stmt('SELECT * FROM task_events WHERE id > ? ORDER BY id LIMIT ?').all(afterId, limit) as StoredEvent[]));
}
