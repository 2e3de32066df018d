import type { EventRow } from '../core/types.js';
import type { RecentEvents } from '../port/types.js';
import { appendEvent } from './rows.js';
import type { Tx } from './tx.js';

/**
 * A task's events and the board's, as SQLite's (store/events.ts). Payloads are jsonb, read back as
 * objects by the driver.
 *
 * Unlike SQLite's, event ids (bigserial) are handed out as rows are inserted, not as transactions
 * commit, and with gaps (a rolled-back or retried transaction uses ids up): with writers at once, an
 * event with a lower id can commit after one with a higher id, so a follower keeping the last id it
 * saw (eventsAfter, recentEvents' cursor) can miss it. Not mended here: it belongs where events are
 * written (rows.ts appendEvent, or the schema).
 */

export async function eventsForTask(tx: Tx, taskId: string): Promise<EventRow[]> {
  return tx.rows<EventRow>('SELECT * FROM task_events WHERE task_id = $1 ORDER BY id', [taskId]);
}

/**
 * The board's events, oldest first, with the id a follower goes on from (the latest event's, read in
 * the same snapshot: the port call is one REPEATABLE READ transaction).
 */
export async function recentEvents(tx: Tx, query: RecentEvents): Promise<{ events: EventRow[]; cursor: number }> {
  const params: unknown[] = [];
  // As a float: a time with a fraction compares, as on SQLite, instead of failing to parse as a bigint.
  const where = query.sinceMs !== undefined ? `WHERE created_at >= $${params.push(query.sinceMs)}::float8` : '';
  const limit = query.last !== undefined ? `LIMIT $${params.push(query.last)}` : '';
  const rows = await tx.rows<EventRow>(`SELECT * FROM task_events ${where} ORDER BY id DESC ${limit}`, params);
  const cursor = (await tx.value<number>('SELECT coalesce(max(id), 0) FROM task_events'))!;
  return { events: rows.reverse(), cursor };
}

/** Events after event `afterId`, oldest first, at most `limit`. */
export async function eventsAfter(tx: Tx, afterId: number, limit: number): Promise<EventRow[]> {
  return tx.rows<EventRow>('SELECT * FROM task_events WHERE id > $1 ORDER BY id LIMIT $2', [afterId, limit]);
}

/** An event on its own (a note about a task that changes none of its fields): the port call is its transaction. */
export async function recordEvent(tx: Tx, taskId: string, kind: string, payload: Record<string, unknown> = {}): Promise<void> {
  await appendEvent(tx, taskId, kind, payload);
}
