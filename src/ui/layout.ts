import stringWidth from 'string-width';
/**
 * The board's geometry, as plain arithmetic: what fits in rows × columns. A frame is one row shorter
 * than the terminal (a full-height frame makes Ink clear the screen on every render: flicker).
 */
export const MIN_COLUMN_WIDTH = 26;
/** Lines a card takes: id line, title, details, and a blank between cards. */
export const CARD_HEIGHT = 4;
/** Header, status line and footer. */
const CHROME_ROWS = 3;
/** Per column: its title, "↑ N more" and "↓ N more". */
const COLUMN_CHROME_ROWS = 3;

export interface Size {
  columns: number;
  rows: number;
}

export function frameHeight(size: Size): number {
  return Math.max(1, size.rows - 1);
}

export function cardsPerColumn(size: Size): number {
  return Math.max(1, Math.floor((frameHeight(size) - CHROME_ROWS - COLUMN_CHROME_ROWS) / CARD_HEIGHT));
}

/** How many columns fit side by side, and how wide each is. */
export function columnFit(size: Size, available: number): { count: number; width: number } {
  const count = Math.max(1, Math.min(available, Math.floor(size.columns / MIN_COLUMN_WIDTH)));
  return { count, width: Math.floor(size.columns / count) };
}

/** The first of `visible` consecutive items out of `total`, keeping `selected` in view and centred when it can be. */
export function windowStart(selected: number, visible: number, total: number): number {
  if (total <= visible) return 0;
  return Math.min(Math.max(0, selected - Math.floor(visible / 2)), total - visible);
}

export function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}

/** Text cut to `width` display cells, with an ellipsis when cut. */
export function cut(text: string, width: number): string {
  if (width <= 0) return '';
  if (stringWidth(text) <= width) return text;
  // Whole characters as the terminal draws them: a wide one takes two columns, an accent none.
  let kept = '';
  let used = 0;
  for (const { segment } of GRAPHEMES.segment(text)) {
    const columns = stringWidth(segment);
    if (used + columns > width - 1) break;
    kept += segment;
    used += columns;
  }
  return `${kept}…`;
}

const GRAPHEMES = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
