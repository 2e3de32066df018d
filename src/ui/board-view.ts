import { columnCounts, columnWindow, dataVersion, positionInColumn } from '../store/board.js';
import { type Card, type ColumnSort } from '../core/types.js';
import type { Store } from '../store/db.js';
import type { Status } from '../core/types.js';
import { clamp, windowStart } from './layout.js';

/** A column's cursor: the task it is on (followed when the column changes) and its position. */
export interface Cursor {
  id: string | null;
  index: number;
}

export interface ColumnView {
  status: Status;
  count: number;
  /** Position of the first card shown. */
  offset: number;
  /** Position of the cursor (0 when empty). */
  index: number;
  /** The order its cards are in (`O` changes it). */
  sort: ColumnSort;
  cards: Card[];
}

export interface BoardView {
  counts: Record<Status, number>;
  columns: ColumnView[];
  /** PRAGMA data_version of the snapshot read: a watcher started later begins from here. */
  version: number;
}

/**
 * The columns on screen, each with its count and the window of cards around its cursor. The cursor
 * follows its task while the task stays in the column; when it leaves, the cursor keeps its place.
 */
export function loadBoard(
  store: Store,
  params: { statuses: readonly Status[]; cursors: Partial<Record<Status, Cursor>>; filter: string; perColumn: number; sorts?: Partial<Record<Status, ColumnSort>> },
): BoardView {
  const filter = params.filter || undefined;
  return store.readTxn(() => {
    const counts = columnCounts(store, filter);
    const columns = params.statuses.map((status) => {
      const count = counts[status];
      const cursor = params.cursors[status] ?? { id: null, index: 0 };
      const sort = params.sorts?.[status];
      const followed = cursor.id === null ? null : positionInColumn(store, status, cursor.id, filter, sort);
      const index = clamp(followed ?? cursor.index, 0, Math.max(0, count - 1));
      const offset = windowStart(index, params.perColumn, count);
      return { status, count, offset, index, sort: sort ?? 'column', cards: count === 0 ? [] : columnWindow(store, status, offset, params.perColumn, filter, sort) };
    });
    return { counts, columns, version: dataVersion(store) };
  });
}

/** The id of the card at `index` in a column (for moving the cursor beyond the cards on screen). */
export function idAt(store: Store, status: Status, index: number, filter: string): string | null {
  return columnWindow(store, status, index, 1, filter || undefined)[0]?.id ?? null;
}
