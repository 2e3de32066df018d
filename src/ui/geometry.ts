import stringWidth from 'string-width';
import { cleanLine } from '../sanitize.js';
import { BOARD_COLUMNS, type ColumnView, type Status } from '../core/types.js';
import { cardHead } from './cards.js';
import { cardHeight, cardsPerColumn, planColumns, titleLinesFor, type ColumnPlan, type Size } from './layout.js';

/** Where the board's columns go on screen: each one's width, whether it is drawn full, where it starts. */
export interface BoardGeometry extends ColumnPlan {
  statuses: Status[];
  /** The screen column each board column starts at (0-based). */
  starts: number[];
  perColumn: number;
  /** Lines of title on each card (1 or 2: see titleLinesFor). */
  titleLines: number;
}

/** Rows above a column's first card: its title and the "↑ N more" line. */
export const COLUMN_HEAD_ROWS = 2;

/** The widths the board's columns get at this size, from what their cards on screen need. */
export function boardGeometry(size: Size, columns: readonly ColumnView[], active: number): BoardGeometry {
  const titleLines = titleLinesFor(size.columns, columns.map((c) => c.count), active);
  const demands = columns.map((column) => ({
    count: column.count,
    // What the title needs (two lines: half, and a bit, as lines break between words) and the id line; the details line is cut first.
    content: Math.max(0, ...column.cards.map((card) => Math.max(Math.ceil(stringWidth(cleanLine(card.title)) / titleLines) + (titleLines - 1) * 4, stringWidth(cardHead(card))))),
  }));
  const plan = planColumns(size.columns, demands, active);
  const starts: number[] = [];
  plan.widths.reduce((x, width) => (starts.push(x), x + width), 0);
  return { ...plan, statuses: columns.map((c) => c.status), starts, perColumn: cardsPerColumn(size, titleLines), titleLines };
}

/**
 * What a click at (x, y) of the board's area (0-based, y from the first row under the header) is
 * on: a column (its header or a collapsed column) or a card (its position in the column).
 */
export function hitTest(geometry: BoardGeometry, columns: readonly ColumnView[], x: number, y: number): { status: Status; card: number | null } | null {
  const i = geometry.starts.findIndex((start, k) => x >= start && x < start + geometry.widths[k]!);
  if (i === -1) return null;
  const column = columns[i]!;
  if (!geometry.expanded[i] || y < COLUMN_HEAD_ROWS) return { status: column.status, card: null };
  const slot = Math.floor((y - COLUMN_HEAD_ROWS) / cardHeight(geometry.titleLines));
  if (slot >= column.cards.length) return { status: column.status, card: null };
  return { status: column.status, card: column.offset + slot };
}

/** Cards per column at this size, for the board's counts (what to read before the cards are known). */
export function perColumnFor(size: Size, counts: readonly number[], active: number): number {
  return cardsPerColumn(size, titleLinesFor(size.columns, counts, active));
}

/** The column a board opens on. */
export const FIRST_COLUMN: Status = 'ready';

/** How many cards fit in a column of a board just opened at `size` (its columns, the cursor on the first one a board starts on). */
export function firstPerColumn(size: Size): (counts: Record<Status, number>) => number {
  return (counts) => perColumnFor(size, BOARD_COLUMNS.map((s) => counts[s]), BOARD_COLUMNS.indexOf(FIRST_COLUMN));
}
