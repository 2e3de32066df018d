/** The arithmetic of a window onto a list: where it starts so that the selected item shows, pure. */
import { FINISHED_STATUSES, STATUSES, type Card, type ColumnSort, type Status } from './types.js';

/** The first of `visible` consecutive items out of `total`, keeping `selected` in view and centred when it can be. */
export function windowStart(selected: number, visible: number, total: number): number {
  if (total <= visible) return 0;
  return Math.min(Math.max(0, selected - Math.floor(visible / 2)), total - visible);
}

export function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}

/**
 * The board's filter as a LIKE pattern: a substring, its `%`, `_` and `\` matched as themselves
 * (with `ESCAPE '\'`). Null: no filter.
 */
export function filterPattern(filter: string | undefined): string | null {
  if (!filter) return null;
  return `%${filter.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Counts per status from `(status, n)` groups: every status present, 0 where none. */
export function countsByStatus(groups: ReadonlyArray<{ status: Status; n: number }>): Record<Status, number> {
  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
  for (const { status, n } of groups) counts[status] = n;
  return counts;
}

/**
 * A card from its row as a window reads it: `hold` is `<event kind> <cooldown_until>` of the cooldown
 * holding a ready task back (null: none).
 */
export function cardOf<R extends Omit<Card, 'held_by' | 'held_until'> & { hold: string | null }>({ hold, ...card }: R): Card {
  const [kind, until] = hold?.split(' ') ?? [];
  return { ...card, held_by: (kind as Card['held_by']) ?? null, held_until: until === undefined ? null : Number(until) };
}

/**
 * Where a column of `count` cards stands around its cursor: the cursor's index (the position of the
 * task it follows, `followed`, while that task is in the column; else the index it had), clamped to
 * the column, and the first of the `perColumn` cards shown.
 */
export function columnPlacement(count: number, cursorIndex: number, followed: number | null, perColumn: number): { index: number; offset: number } {
  const index = clamp(followed ?? cursorIndex, 0, Math.max(0, count - 1));
  return { index, offset: windowStart(index, perColumn, count) };
}

/** The orders a column's cards can be in: `queue` (priority, then age) and `finished` (latest first) are `column`'s. */
export type ColumnOrder = 'queue' | 'finished' | Exclude<ColumnSort, 'column'>;

/** The order of `status`'s column under `sort`: `column` is latest first for finished columns, queue order for the others. */
export function columnOrder(status: Status, sort: ColumnSort = 'column'): ColumnOrder {
  if (sort !== 'column') return sort;
  return FINISHED_STATUSES.includes(status) ? 'finished' : 'queue';
}
