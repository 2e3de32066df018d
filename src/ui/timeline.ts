import type { EventRow, RunRow } from '../core/types.js';
import { formatSpan } from '../time.js';

/** A run's colour by how it ended (running: still going). */
export const OUTCOME_COLOR: Record<string, string | undefined> = {
  running: 'green',
  completed: 'cyan',
  review: 'cyan',
  blocked: 'magenta',
  rate_limited: 'yellow',
  crashed: 'red',
  hung: 'red',
  timed_out: 'red',
  stale: 'red',
  protocol_violation: 'red',
  spawn_failed: 'red',
  gave_up: 'red',
  reclaimed: 'blue',
};

export interface Timeline {
  cells: Array<{ char: string; color: string | undefined }>;
  /** Under the bar: when it starts, and how long it spans. */
  axis: string;
}

/**
 * A task's runs as bars on one time axis of `width` cells, from its first run's start to now: each
 * run a bar in its outcome's colour, the cooldown a rate limit imposed after it as a light shade, and
 * the idle time between as a dotted line. A run shorter than a cell still gets one cell.
 */
export function runTimeline(runs: readonly RunRow[], events: readonly EventRow[], now: number, width: number): Timeline {
  const cells: Timeline['cells'] = Array.from({ length: width }, () => ({ char: '·', color: undefined }));
  if (runs.length === 0) return { cells, axis: '' };
  const start = Math.min(...runs.map((r) => r.started_at));
  const end = Math.max(now, ...runs.map((r) => r.ended_at ?? now));
  const span = Math.max(1, end - start);
  const cellOf = (at: number) => Math.min(width - 1, Math.max(0, Math.floor(((at - start) / span) * width)));
  const paint = (from: number, to: number, char: string, color: string | undefined) => {
    for (let i = cellOf(from); i <= cellOf(to); i++) cells[i] = { char, color };
  };
  const cooldowns = new Map<number, number>();
  for (const e of events) {
    const until = (e.payload as { cooldown_until?: unknown }).cooldown_until;
    if (e.run_id !== null && typeof until === 'number') cooldowns.set(e.run_id, until);
  }
  // Cooldowns first: a run that started during one (it cannot, but clocks differ) draws over it.
  for (const run of runs) {
    const until = cooldowns.get(run.id);
    if (until !== undefined && run.ended_at !== null && until > run.ended_at) paint(run.ended_at, Math.min(until, end), '░', 'yellow');
  }
  for (const run of runs) paint(run.started_at, run.ended_at ?? now, '█', OUTCOME_COLOR[run.outcome ?? 'running']);
  const started = new Date(start).toTimeString().slice(0, 5);
  return { cells, axis: `${started} ${'─'.repeat(Math.max(0, width - started.length - 12))} ${formatSpan(span).padStart(4)} → now` };
}
