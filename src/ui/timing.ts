import { appendFileSync } from 'node:fs';
import { monotonicMs } from '../clock.js';

/**
 * Frame timings for bench/tui.ts, off unless KANBAN_TUI_TIMINGS names a file: the time from the
 * board noticing another process's change to Ink having drawn the frame that shows it.
 */
const file = process.env.KANBAN_TUI_TIMINGS;
let changedAt: number | null = null;

export function markChange(): void {
  if (file) changedAt = monotonicMs();
}

export function markRendered(): void {
  if (!file || changedAt === null) return;
  appendFileSync(file, `${(monotonicMs() - changedAt).toFixed(2)}\n`);
  changedAt = null;
}
