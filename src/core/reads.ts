import { checkInteger } from './task-fields.js';
import { STATUSES, type SortKey, type Status } from './types.js';
import type { ListFilter } from '../port/types.js';

/**
 * What the board's reads decide, pure, so every backend answers them alike: which tasks `list`
 * shows, in what order and how many, and how many comments a run's context carries. Each backend
 * writes the order's keys in its own SQL (`orderBy` with its own expressions: store/tasks.ts, pg/tasks.ts).
 */

/** The statuses a list shows: those asked for, else every one but archived. */
export function listStatuses(filter: ListFilter): readonly Status[] {
  return filter.statuses?.length ? filter.statuses : STATUSES.filter((s) => s !== 'archived');
}

/** At most this many tasks (checked: a whole number ≥ 1), or null for all of them. */
export function listLimit(filter: ListFilter): number | null {
  return filter.limit !== undefined ? checkInteger(filter.limit, 'limit', 1) : null;
}

/**
 * One key of a list's order. `status` is the board's column order (STATUSES); `title` ignores the
 * case of ASCII letters only (SQLite's NOCASE) and compares bytes; `id` compares bytes.
 */
export interface OrderKey {
  key: 'status' | 'priority' | 'created_at' | 'updated_at' | 'title' | 'id';
  desc?: boolean;
}

/** `kanban list --sort`'s orders: each ends in the id, so the order is total. */
export const LIST_ORDER: Readonly<Record<SortKey, readonly OrderKey[]>> = {
  status: [{ key: 'status' }, { key: 'priority', desc: true }, { key: 'created_at' }, { key: 'id' }],
  priority: [{ key: 'priority', desc: true }, { key: 'created_at' }, { key: 'id' }],
  created: [{ key: 'created_at' }, { key: 'id' }],
  updated: [{ key: 'updated_at', desc: true }, { key: 'id' }],
  title: [{ key: 'title' }, { key: 'id' }],
  id: [{ key: 'id' }],
};

/** `ORDER BY`'s list for `sort`, each key written by `expression` (the backend's SQL for it). */
export function orderBy(sort: SortKey | undefined, expression: (key: OrderKey['key']) => string): string {
  return LIST_ORDER[sort ?? 'status'].map(({ key, desc }) => `${expression(key)}${desc ? ' DESC' : ''}`).join(', ');
}

/** SQL ranking `column` in the board's column order (STATUSES): the same in every dialect. */
export function statusRankSql(column: string): string {
  return `CASE ${column} ${STATUSES.map((s, i) => `WHEN '${s}' THEN ${i}`).join(' ')} END`;
}

/** The newest comments a run's context (a worker's prompt) carries; older ones are left out (the board keeps them all). */
export const COMMENTS_IN_CONTEXT = 30;
