import { LAST_BLOCK_KIND_SQL } from '../core/sql.js';
import type { BoardView, Card, ColumnSort, Status, TaskRow, ViewQuery } from '../core/types.js';
import { cardOf, columnOrder, columnPlacement, countsByStatus, filterPattern, type ColumnOrder } from '../core/window.js';
import { sqlLimit } from './dispatch.js';
import type { Tx } from './tx.js';

/**
 * What the board draws, read a window at a time (src/store/board.ts on PostgreSQL): a column's count,
 * and the cards around its cursor. Nothing here hands back a whole column, and the first windows of
 * a column walk an index in its order (`tasks_status` for the queue, `tasks_status_updated` for the
 * finished), as SQLite's do.
 *
 * SQLite's `COLLATE NOCASE` folds ASCII letters only and then compares bytes: `lower(x COLLATE "C")`
 * is that (lower() under "C" folds ASCII only), and compares as bytes. Its `LIKE` is case-insensitive
 * for ASCII only: `x COLLATE "C" ILIKE` is that. Task ids need no COLLATE: the schema holds them to
 * `t_` and eight hex digits, which every collation orders as bytes, so the indexes' order stands.
 */

const NOCASE_TITLE = 'lower(title COLLATE "C")';

/** A statement's parameters, numbered as they are added (PostgreSQL refuses one its SQL does not use). */
class Params {
  readonly values: unknown[] = [];
  /** `$n` for `value`. */
  add(value: unknown, cast = ''): string {
    this.values.push(value);
    return `$${this.values.length}${cast}`;
  }
}

/** The values of a task its place in a column is judged by. */
type Place = Pick<TaskRow, 'priority' | 'created_at' | 'updated_at' | 'title' | 'id'>;

/**
 * A column's order: `by`, its ORDER BY; `before`, the tasks ahead of `task` in it, with a bound it
 * implies that an index can start from.
 */
type Order = { by: string; before: (task: Place, p: Params) => string };
const ORDER: Record<ColumnOrder, Order> = {
  queue: {
    by: 'priority DESC, created_at, id',
    before: (t, p) => {
      const priority = p.add(t.priority);
      const created = p.add(t.created_at);
      return `priority >= ${priority} AND (priority > ${priority} OR (priority = ${priority} AND (created_at < ${created} OR (created_at = ${created} AND id < ${p.add(t.id)}))))`;
    },
  },
  finished: {
    by: 'updated_at DESC, id',
    before: (t, p) => {
      const updated = p.add(t.updated_at);
      return `updated_at >= ${updated} AND (updated_at > ${updated} OR (updated_at = ${updated} AND id < ${p.add(t.id)}))`;
    },
  },
  newest: {
    by: 'created_at DESC, id',
    before: (t, p) => {
      const created = p.add(t.created_at);
      return `created_at >= ${created} AND (created_at > ${created} OR (created_at = ${created} AND id < ${p.add(t.id)}))`;
    },
  },
  oldest: {
    by: 'created_at, id',
    before: (t, p) => {
      const created = p.add(t.created_at);
      return `created_at <= ${created} AND (created_at < ${created} OR (created_at = ${created} AND id < ${p.add(t.id)}))`;
    },
  },
  title: {
    by: `${NOCASE_TITLE}, id`,
    before: (t, p) => {
      const title = `lower(${p.add(t.title, '::text')} COLLATE "C")`;
      return `${NOCASE_TITLE} <= ${title} AND (${NOCASE_TITLE} < ${title} OR (${NOCASE_TITLE} = ${title} AND id < ${p.add(t.id)}))`;
    },
  },
};

function orderOf(status: Status, sort?: ColumnSort): Order {
  return ORDER[columnOrder(status, sort)];
}

/** A case-insensitive substring of the title, the assignee or the id; `%` and `_` are matched as themselves. */
function filterClause(filter: string | undefined, p: Params): string {
  const pattern = filterPattern(filter);
  if (pattern === null) return '';
  const k = p.add(pattern, '::text');
  const like = (column: string) => `${column} COLLATE "C" ILIKE ${k} ESCAPE '\\'`;
  return ` AND (${like('title')} OR ${like('assignee')} OR ${like('id')})`;
}

export async function columnCounts(tx: Tx, filter?: string): Promise<Record<Status, number>> {
  const p = new Params();
  const where = filterClause(filter, p);
  return countsByStatus(await tx.rows<{ status: Status; n: number }>(`SELECT status, count(*) AS n FROM tasks WHERE true${where} GROUP BY status`, p.values));
}

const BLOCK_KIND = `CASE WHEN t.status <> 'blocked' THEN NULL ELSE CASE ${LAST_BLOCK_KIND_SQL} WHEN 'gave_up' THEN 'breaker' WHEN 'blocked' THEN 'sticky' END END`;

/** The cooldown event of a ready task's last run, if that run has one (read for the cards in a window only). */
const HOLD = `(SELECT e.kind || ' ' || (e.payload ->> 'cooldown_until') FROM task_events e
  WHERE t.status = 'ready' AND e.run_id = (SELECT max(r.id) FROM task_runs r WHERE r.task_id = t.id) AND e.kind IN ('rate_limited', 'spawn_failed')
    AND e.payload ->> 'cooldown_until' IS NOT NULL ORDER BY e.id DESC LIMIT 1)`;

/**
 * `limit` cards of a column from position `offset`, in the column's order. The window's rows are
 * found first, and only theirs are looked into for a block or a hold (not those skipped to reach it).
 */
export async function columnWindow(tx: Tx, status: Status, offset: number, limit: number, filter?: string, sort?: ColumnSort): Promise<Card[]> {
  const p = new Params();
  const { by } = orderOf(status, sort);
  const rows = await tx.rows<Omit<Card, 'held_by' | 'held_until'> & { hold: string | null }>(
    `SELECT t.*, ${BLOCK_KIND} AS block_kind, ${HOLD} AS hold
     FROM (SELECT * FROM tasks WHERE status = ${p.add(status)}${filterClause(filter, p)} ORDER BY ${by} LIMIT ${p.add(sqlLimit(limit), '::bigint')} OFFSET ${p.add(Math.max(0, offset), '::bigint')}) t
     ORDER BY ${by}`,
    p.values,
  );
  return rows.map(cardOf);
}

/** Where a task stands in its column (0 = first), or null when it is not in that column. */
export async function positionInColumn(tx: Tx, status: Status, taskId: string, filter?: string, sort?: ColumnSort): Promise<number | null> {
  const task = await tx.row<TaskRow>('SELECT * FROM tasks WHERE id = $1 AND status = $2', [taskId, status]);
  if (!task) return null;
  const p = new Params();
  return (await tx.value<number>(`SELECT count(*) FROM tasks WHERE status = ${p.add(status)}${filterClause(filter, p)} AND ${orderOf(status, sort).before(task, p)}`, p.values))!;
}

/**
 * The columns of a view in one snapshot (the read transaction's), each with its count and the window
 * of cards around its cursor. The cursor follows its task while the task stays in the column; when it
 * leaves, the cursor keeps its place.
 */
export async function boardView(tx: Tx, query: ViewQuery): Promise<BoardView> {
  const filter = query.filter || undefined;
  const counts = await columnCounts(tx, filter);
  const columns = [];
  for (const status of query.statuses) {
    const count = counts[status];
    const cursor = query.cursors[status] ?? { id: null, index: 0 };
    const sort = query.sorts?.[status];
    const followed = cursor.id === null ? null : await positionInColumn(tx, status, cursor.id, filter, sort);
    const { index, offset } = columnPlacement(count, cursor.index, followed, query.perColumn);
    columns.push({ status, count, offset, index, sort: sort ?? ('column' as const), cards: count === 0 ? [] : await columnWindow(tx, status, offset, query.perColumn, filter, sort) });
  }
  return { counts, columns };
}
