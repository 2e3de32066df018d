import type { GcCursor } from '../port/types.js';

/**
 * Retention's walks (`kanban gc`), the same on every backend: tasks in the order of a time (archived:
 * updated_at; completed: completed_at), then id descending among equal times, as the indexes they walk
 * hold them (tasks_status_updated is (status, updated_at DESC, id): walked backwards). A batch starts
 * after a cursor, the last task of the batch before.
 */

/** Before any task: times are never negative. */
export const WALK_START: GcCursor = { at: -1, id: '' };

/** Where the next batch starts: after the last task of this one, if it filled its limit; null: the walk is over. */
export function nextCursor(rows: readonly GcCursor[], limit: number): GcCursor | null {
  const last = rows.at(-1);
  return rows.length === limit && last ? { at: last.at, id: last.id } : null;
}
