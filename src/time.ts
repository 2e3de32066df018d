import { InvalidInput } from './errors.js';

/** A unit as people write it: `s`, `sec`, `seconds`, `m`, `min`, `minutes`, `h`, `hr`, `hours`, `d`, `days`. */
const UNIT = 's|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?';
const DURATION = new RegExp(`^(\\d+(?:\\.\\d+)?|\\.\\d+)\\s*(${UNIT})?$`, 'i');
const UNIT_ALONE = new RegExp(`^(${UNIT})$`, 'i');
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/** Whether `word` is a unit of time alone (`hours`, `min`): what `--in 2 hours` leaves over. */
export function isDurationUnit(word: string): boolean {
  return UNIT_ALONE.test(word.trim());
}

/** Parses `90`, `90s`, `15m`, `2h`, `1d`, `2 hours`, `90 min` (fractions allowed) into seconds. */
export function parseDuration(text: string, what = 'duration'): number {
  const match = DURATION.exec(text.trim());
  if (!match) {
    throw new InvalidInput(`invalid ${what} '${text}': use a number of seconds or 90s, 15m, 2h, 1d (or 2 hours)`);
  }
  const unit = (match[2]?.[0]?.toLowerCase() ?? 's') as keyof typeof UNIT_SECONDS;
  const seconds = Number(match[1]) * UNIT_SECONDS[unit];
  if (!Number.isFinite(seconds)) throw new InvalidInput(`invalid ${what} '${text}': too large`);
  return seconds;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_DATE_TIME =
  /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Parses an ISO 8601 date or date-time into epoch ms. A date alone, or a time without an offset, is
 * local time: that is what a person typing `--at 2026-12-01T09:00` means.
 */
export function parseTime(text: string): number {
  const trimmed = text.trim();
  const dateOnly = ISO_DATE.exec(trimmed);
  let ms: number;
  if (dateOnly) {
    const [, y, m, d] = dateOnly.map(Number) as [number, number, number, number];
    const local = new Date(y, m - 1, d);
    ms = local.getFullYear() === y && local.getMonth() === m - 1 && local.getDate() === d ? local.getTime() : NaN;
  } else if (ISO_DATE_TIME.test(trimmed)) {
    ms = Date.parse(trimmed.replace(' ', 'T').replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  } else {
    ms = NaN;
  }
  if (Number.isNaN(ms)) {
    throw new InvalidInput(`invalid time '${text}': use ISO 8601, e.g. 2026-12-01T09:00 or 2026-12-01T09:00:00Z`);
  }
  return ms;
}

/** A short human form of a span of milliseconds: `45s`, `12m`, `3h`, `2d`. */
export function formatSpan(ms: number): string {
  const seconds = Math.round(Math.abs(ms) / 1000);
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

/** A local time to the second: `2026-12-01 09:00:00` (`—` for none). */
export function formatTimestamp(ms: number | null): string {
  if (ms === null) return '—';
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A time as kanban shows it: local time, then how far from now (`2026-12-01 09:00:00 (in 2h)`, `(5m ago)`). */
export function formatWhen(ms: number, now: number): string {
  return `${formatTimestamp(ms)} (${ms >= now ? `in ${formatSpan(ms - now)}` : `${formatSpan(now - ms)} ago`})`;
}
