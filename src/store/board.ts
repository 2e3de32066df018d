import type { Store } from './db.js';
import { LAST_BLOCK_KIND_SQL } from '../core/sql.js';
import type { BoardView, Card, ColumnSort, Status, TaskRow, ViewQuery } from '../core/types.js';
import { cardOf, columnOrder, columnPlacement, countsByStatus, filterPattern, type ColumnOrder } from '../core/window.js';

/**
 * What the board draws, read a window at a time: a column's count, and the cards around its cursor.
 * Nothing here loads a whole column, so 10,000 tasks cost what 100 do.
 */

type Order = { by: string; before: string };
const ORDER: Record<ColumnOrder, Order> = {
  queue: {
    by: 'priority DESC, created_at, id',
    before: '(priority > @priority OR (priority = @priority AND (created_at < @created_at OR (created_at = @created_at AND id < @id))))',
  },
  finished: {
    by: 'updated_at DESC, id',
    before: '(updated_at > @updated_at OR (updated_at = @updated_at AND id < @id))',
  },
  newest: {
    by: 'created_at DESC, id',
    before: '(created_at > @created_at OR (created_at = @created_at AND id < @id))',
  },
  oldest: {
    by: 'created_at, id',
    before: '(created_at < @created_at OR (created_at = @created_at AND id < @id))',
  },
  title: {
    by: 'title COLLATE NOCASE, id',
    before: '(title < @title COLLATE NOCASE OR (title = @title COLLATE NOCASE AND id < @id))',
  },
};

function orderOf(status: Status, sort?: ColumnSort): Order {
  return ORDER[columnOrder(status, sort)];
}

/** A case-insensitive substring of the title, the assignee or the id; `%` and `_` are matched as themselves. */
function filterClause(filter: string | undefined): { sql: string; params: Record<string, string> } {
  const pattern = filterPattern(filter);
  if (pattern === null) return { sql: '', params: {} };
  return { sql: " AND (title LIKE @pattern ESCAPE '\\' OR assignee LIKE @pattern ESCAPE '\\' OR id LIKE @pattern ESCAPE '\\')", params: { pattern } };
}

/** Tasks per status: kept in status_counts by triggers; a filter (text matched) counts the matching tasks. */
export function columnCounts(store: Store, filter?: string): Record<Status, number> {
  const where = filterClause(filter);
  const rows = (
    where.sql === ''
      ? store.stmt('SELECT status, n FROM status_counts').all()
      : store.stmt(`SELECT status, count(*) AS n FROM tasks WHERE 1${where.sql} GROUP BY status`).all(where.params)
  ) as Array<{ status: Status; n: number }>;
  return countsByStatus(rows);
}

const BLOCK_KIND = `CASE WHEN t.status <> 'blocked' THEN NULL ELSE CASE ${LAST_BLOCK_KIND_SQL} WHEN 'gave_up' THEN 'breaker' WHEN 'blocked' THEN 'sticky' END END`;

/** The cooldown event of a ready task's last run, if that run has one (read for the cards in a window only). */

const HOLD = `(SELECT e.kind || ' ' || json_extract(e.payload, '$.cooldown_until') FROM task_events e
  WHERE t.status = 'ready' AND e.run_id = (SELECT max(r.id) FROM task_runs r WHERE r.task_id = t.id) AND e.kind IN ('rate_limited', 'spawn_failed')
    AND json_extract(e.payload, '$.cooldown_until') IS NOT NULL ORDER BY e.id DESC LIMIT 1)`;

/** `limit` cards of a column from position `offset`, in the column's order. */
export function columnWindow(store: Store, status: Status, offset: number, limit: number, filter?: string, sort?: ColumnSort): Card[] {
  const where = filterClause(filter);
  const rows = store
    .stmt(`SELECT t.*, ${BLOCK_KIND} AS block_kind, ${HOLD} AS hold FROM tasks t WHERE status = @status${where.sql} ORDER BY ${orderOf(status, sort).by} LIMIT @limit OFFSET @offset`)
    .all({ status, limit, offset: Math.max(0, offset), ...where.params }) as Array<Omit<Card, 'held_by' | 'held_until'> & { hold: string | null }>;
  return rows.map(cardOf);
}

/** Where a task stands in its column (0 = first), or null when it is not in that column. */
export function positionInColumn(store: Store, status: Status, taskId: string, filter?: string, sort?: ColumnSort): number | null {
  const task = store.stmt('SELECT * FROM tasks WHERE id = ? AND status = ?').get(taskId, status) as TaskRow | undefined;
  if (!task) return null;
  const where = filterClause(filter);
  const { id, priority, created_at, updated_at, title } = task;
  return store
    .stmt(`SELECT count(*) FROM tasks WHERE status = @status${where.sql} AND ${orderOf(status, sort).before}`)
    .pluck()
    .get({ status, id, priority, created_at, updated_at, title, ...where.params }) as number;
}

/** PRAGMA data_version: changes when another connection commits, so a file event that changed nothing costs nothing. */
export function dataVersion(store: Store): number {
  return store.db.pragma('data_version', { simple: true }) as number;
}

/**
 * The columns of a view in one snapshot, each with its count and the window of cards around its
 * cursor. The cursor follows its task while the task stays in the column; when it leaves, the cursor
 * keeps its place.
 */
export function boardView(store: Store, query: ViewQuery): BoardView {
  const filter = query.filter || undefined;
  return store.readTxn(() => {
    const counts = columnCounts(store, filter);
    const columns = query.statuses.map((status) => {
      const count = counts[status];
      const cursor = query.cursors[status] ?? { id: null, index: 0 };
      const sort = query.sorts?.[status];
      const followed = cursor.id === null ? null : positionInColumn(store, status, cursor.id, filter, sort);
      const { index, offset } = columnPlacement(count, cursor.index, followed, query.perColumn);
      return { status, count, offset, index, sort: sort ?? 'column', cards: count === 0 ? [] : columnWindow(store, status, offset, query.perColumn, filter, sort) };
    });
    return { counts, columns };
  });
}
