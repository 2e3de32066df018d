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

/** A filter's matches found through the trigram index (v12's tasks_text) when there are at most this many; more (a common word), and every task is walked. */
const LISTED_MATCHES = 5_000;

/** A filter as SQL: its condition, its parameters, and whether its matches are few and listed (then a column is read from them, not walked by its index). */
interface FilterSql {
  sql: string;
  params: Record<string, string>;
  listed: boolean;
}

/** A case-insensitive substring of the title, the assignee or the id; `%` and `_` are matched as themselves. */
function filterSql(store: Store, filter: string | undefined): FilterSql {
  const pattern = filterPattern(filter);
  if (pattern === null) return { sql: '', params: {}, listed: false };
  const like = " AND (title LIKE @pattern ESCAPE '\\' OR assignee LIKE @pattern ESCAPE '\\' OR id LIKE @pattern ESCAPE '\\')";
  const matches = listedMatches(store, filter!);
  if (matches === null) return { sql: like, params: { pattern }, listed: false };
  return { sql: ` AND t.rowid IN (SELECT value FROM json_each(@matches))${like}`, params: { pattern, matches: JSON.stringify(matches) }, listed: true };
}

/**
 * The tasks a filter may match, by the trigram index: a superset (the index folds case beyond ASCII,
 * and takes `%` and `_` as wildcards), which the filter's own LIKE then decides. Null where the index
 * cannot help: no run of 3 characters without a wildcard, or more than LISTED_MATCHES tasks.
 */
function listedMatches(store: Store, filter: string): number[] | null {
  if (!filter.split(/[%_]/).some((run) => [...run].length >= 3)) return null;
  const rowids = store
    .stmt(`SELECT rowid FROM tasks_text WHERE title LIKE @loose OR assignee LIKE @loose OR id LIKE @loose LIMIT ${LISTED_MATCHES + 1}`)
    .pluck()
    .all({ loose: `%${filter}%` }) as number[];
  return rowids.length > LISTED_MATCHES ? null : rowids;
}

/** A column's tasks: by the status index, or (matches listed) from the matches, sorted, which the unary + keeps the planner to. */
const inColumn = (where: FilterSql) => `${where.listed ? '+' : ''}status = @status`;

/** Tasks per status: kept in status_counts by triggers; a filter (text matched) counts the matching tasks. */
export function columnCounts(store: Store, filter?: string, where = filterSql(store, filter)): Record<Status, number> {
  const rows = (
    where.sql === ''
      ? store.stmt('SELECT status, n FROM status_counts').all()
      : store.stmt(`SELECT status, count(*) AS n FROM tasks t WHERE 1${where.sql} GROUP BY status`).all(where.params)
  ) as Array<{ status: Status; n: number }>;
  return countsByStatus(rows);
}

const BLOCK_KIND = `CASE WHEN t.status <> 'blocked' THEN NULL ELSE CASE ${LAST_BLOCK_KIND_SQL} WHEN 'gave_up' THEN 'breaker' WHEN 'blocked' THEN 'sticky' END END`;

/** The cooldown event of a ready task's last run, if that run has one (read for the cards in a window only). */

const HOLD = `(SELECT e.kind || ' ' || json_extract(e.payload, '$.cooldown_until') FROM task_events e
  WHERE t.status = 'ready' AND e.run_id = (SELECT max(r.id) FROM task_runs r WHERE r.task_id = t.id) AND e.kind IN ('rate_limited', 'spawn_failed')
    AND json_extract(e.payload, '$.cooldown_until') IS NOT NULL ORDER BY e.id DESC LIMIT 1)`;

/** `limit` cards of a column from position `offset`, in the column's order. */
export function columnWindow(store: Store, status: Status, offset: number, limit: number, filter?: string, sort?: ColumnSort, where = filterSql(store, filter)): Card[] {
  const rows = store
    .stmt(`SELECT t.*, ${BLOCK_KIND} AS block_kind, ${HOLD} AS hold FROM tasks t WHERE ${inColumn(where)}${where.sql} ORDER BY ${orderOf(status, sort).by} LIMIT @limit OFFSET @offset`)
    .all({ status, limit, offset: Math.max(0, offset), ...where.params }) as Array<Omit<Card, 'held_by' | 'held_until'> & { hold: string | null }>;
  return rows.map(cardOf);
}

/** Where a task stands in its column (0 = first), or null when it is not in that column. */
export function positionInColumn(store: Store, status: Status, taskId: string, filter?: string, sort?: ColumnSort, where = filterSql(store, filter)): number | null {
  const task = store.stmt('SELECT * FROM tasks WHERE id = ? AND status = ?').get(taskId, status) as TaskRow | undefined;
  if (!task) return null;
  const { id, priority, created_at, updated_at, title } = task;
  return store
    .stmt(`SELECT count(*) FROM tasks t WHERE ${inColumn(where)}${where.sql} AND ${orderOf(status, sort).before}`)
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
    const where = filterSql(store, filter); // the filter's matches, looked up once for every column
    const counts = columnCounts(store, filter, where);
    const columns = query.statuses.map((status) => {
      const count = counts[status];
      const cursor = query.cursors[status] ?? { id: null, index: 0 };
      const sort = query.sorts?.[status];
      const followed = cursor.id === null ? null : positionInColumn(store, status, cursor.id, filter, sort, where);
      const { index, offset } = columnPlacement(count, cursor.index, followed, query.perColumn);
      return { status, count, offset, index, sort: sort ?? 'column', cards: count === 0 ? [] : columnWindow(store, status, offset, query.perColumn, filter, sort, where) };
    });
    return { counts, columns };
  });
}
