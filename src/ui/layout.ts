import stringWidth from 'string-width';
import { clamp } from '../core/window.js';
/**
 * The board's geometry, as plain arithmetic: what fits in rows × columns. A frame is one row shorter
 * than the terminal (a full-height frame makes Ink clear the screen on every render: flicker).
 */
/** A column that holds cards is never narrower than this (an id and a few letters of title). */
export const MIN_COLUMN_WIDTH = 15;
/** Nor wider: past this a long title is cut rather than squeezing the others. */
export const MAX_COLUMN_WIDTH = 60;
/** A column drawn collapsed (empty, or no room): its short name over its count. */
export const COLLAPSED_WIDTH = 5;
/** A card's title takes two lines when a full column would be narrower than this. */
const WIDE_ENOUGH_FOR_ONE_LINE = 40;
/** Header, status line and footer. */
const CHROME_ROWS = 3;
/** Per column: its title, "↑ N more" and "↓ N more". */
const COLUMN_CHROME_ROWS = 3;

export interface Size {
  columns: number;
  rows: number;
}

/** A terminal's size, 80×24 where it does not say. */
export function terminalSize(stdout: { columns?: number; rows?: number }): Size {
  return { columns: stdout.columns || 80, rows: stdout.rows || 24 };
}

export function frameHeight(size: Size): number {
  return Math.max(1, size.rows - 1);
}

/** Rows between the header and the status line. */
export function mainHeight(size: Size): number {
  return Math.max(1, frameHeight(size) - CHROME_ROWS);
}

/** Lines a card takes: id line, its title's lines, details, and a blank between cards. */
export function cardHeight(titleLines: number): number {
  return titleLines + 3;
}

export function cardsPerColumn(size: Size, titleLines = 1): number {
  return Math.max(1, Math.floor((frameHeight(size) - CHROME_ROWS - COLUMN_CHROME_ROWS) / cardHeight(titleLines)));
}

/**
 * One line of title or two: two when the columns that hold cards (and the active one) would each
 * be narrower than WIDE_ENOUGH_FOR_ONE_LINE, so that a title is read whole rather than cut at 20.
 * Decided from the counts alone (not the titles), so it is known before the cards are read.
 */
export function titleLinesFor(width: number, counts: readonly number[], active: number): number {
  const plan = planColumns(width, counts.map((count) => ({ count, content: MAX_COLUMN_WIDTH })), active);
  const full = plan.widths.filter((_, i) => plan.expanded[i]);
  return Math.min(...full) < WIDE_ENOUGH_FOR_ONE_LINE ? 2 : 1;
}

/** What the layout needs to know of a column: how many cards, and how wide its widest card wants to be. */
export interface ColumnDemand {
  count: number;
  /** Display width of its widest line (title, id line, details) among the cards on screen. */
  content: number;
}

/** Each column's width, 0 for none: either full (cards drawn) or COLLAPSED_WIDTH (name and count). */
export interface ColumnPlan {
  widths: number[];
  expanded: boolean[];
}

/**
 * How the columns share the terminal's width. Every column is on screen: the active one and those
 * holding cards are drawn full, empty ones collapse to their name and count. When the full ones do
 * not fit at MIN_COLUMN_WIDTH, those farthest from the active column collapse too. The width left is
 * shared by what each column's cards need: short ones get what they need, long ones share the rest.
 */
export function planColumns(width: number, demands: readonly ColumnDemand[], active: number): ColumnPlan {
  const n = demands.length;
  const full = demands.map((d, i) => i === active || d.count > 0);
  const fits = () => {
    const expanded = full.filter(Boolean).length;
    return expanded * MIN_COLUMN_WIDTH + (n - expanded) * COLLAPSED_WIDTH <= width;
  };
  // Farthest from the active column first (the right-hand one of a tie: the board reads left to right).
  const byDistance = demands.map((_, i) => i).filter((i) => i !== active).sort((a, b) => Math.abs(b - active) - Math.abs(a - active) || b - a);
  for (const i of byDistance) {
    if (fits()) break;
    full[i] = false;
  }
  const collapsed = full.filter((f) => !f).length;
  const room = Math.max(0, width - collapsed * COLLAPSED_WIDTH);
  const wanted = demands.map((d, i) => (full[i] ? clamp(d.content + 4, MIN_COLUMN_WIDTH, MAX_COLUMN_WIDTH) : 0));
  const shares = shareWidth(room, wanted);
  return { widths: shares.map((w, i) => (full[i] ? w : COLLAPSED_WIDTH)), expanded: full };
}

/**
 * Splits `room` among columns wanting `wanted` (0: not a full column): each gets at most what it
 * wants while others want more (water filling), never less than MIN_COLUMN_WIDTH unless there is
 * no room at all; what is left over once all are satisfied is spread evenly.
 */
function shareWidth(room: number, wanted: readonly number[]): number[] {
  const open = wanted.map((w, i) => (w > 0 ? i : -1)).filter((i) => i >= 0);
  const widths = wanted.map(() => 0);
  if (open.length === 0) return widths;
  let left = room;
  let pending = [...open].sort((a, b) => wanted[a]! - wanted[b]!);
  while (pending.length > 0) {
    const fair = Math.floor(left / pending.length);
    const smallest = pending[0]!;
    if (wanted[smallest]! <= fair) {
      widths[smallest] = wanted[smallest]!;
      left -= wanted[smallest]!;
      pending = pending.slice(1);
      continue;
    }
    // Nobody left is satisfied by a fair share: they all take it (the remainder to the first ones).
    pending.sort((a, b) => a - b).forEach((i, k) => (widths[i] = fair + (k < left - fair * pending.length ? 1 : 0)));
    return widths;
  }
  // All satisfied: the spare columns go to each in turn, left to right.
  const spare = left;
  open.forEach((i, k) => (widths[i]! += Math.floor(spare / open.length) + (k < spare % open.length ? 1 : 0)));
  return widths;
}

/** Text cut to `width` display cells, with an ellipsis when cut. */
export function cut(text: string, width: number): string {
  if (width <= 0) return '';
  if (stringWidth(text) <= width) return text;
  return `${fitting(text, width - 1)}…`;
}

/** The start of `text` that fits in `width` cells, in whole characters as the terminal draws them (a wide one takes two columns, an accent none). */
function fitting(text: string, width: number): string {
  let kept = '';
  let used = 0;
  for (const { segment } of GRAPHEMES.segment(text)) {
    const columns = stringWidth(segment);
    if (used + columns > width) break;
    kept += segment;
    used += columns;
  }
  return kept;
}

/**
 * Text in at most `lines` lines of `width` display cells, broken between words where it can (in
 * a word longer than a line, anywhere); the last line cut with an ellipsis when the text goes on.
 */
export function wrap(text: string, width: number, lines: number): string[] {
  if (width <= 0 || lines <= 0) return [];
  const out: string[] = [];
  let rest = text.trim();
  while (rest !== '' && out.length < lines - 1) {
    if (stringWidth(rest) <= width) {
      out.push(rest);
      rest = '';
      break;
    }
    const head = fitting(rest, width);
    const space = head.lastIndexOf(' ');
    const line = space > 0 ? head.slice(0, space) : head;
    out.push(line.trimEnd());
    rest = rest.slice(line.length).trimStart();
  }
  if (rest !== '') out.push(cut(rest, width));
  return out;
}

const GRAPHEMES = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
