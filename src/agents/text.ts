import type { Verdict } from './types.js';

/**
 * What every classifier shares: reading JSON lines, recognising a rate limit or a credentials
 * failure in an error's words, and finding when a limit resets. Pure functions of text and a clock.
 */

function asObject(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/**
 * The JSON objects in what an agent printed: one per line (JSONL, stream-json), or one document
 * pretty-printed over many lines (a `--output-format json` answer, an error printed as JSON after
 * some plain lines).
 */
export function jsonObjects(text: string): Array<Record<string, unknown>> {
  const lines = jsonLines(text);
  if (lines.length > 0) return lines;
  const start = text.search(/^\{\s*$/m);
  if (start < 0) return [];
  try {
    const whole = asObject(JSON.parse(text.slice(start)));
    return whole ? [whole] : [];
  } catch {
    return [];
  }
}

/** Each line of `text` that parses as a JSON object, in order; anything else is skipped. */
export function jsonLines(text: string): Array<Record<string, unknown>> {
  const objects: Array<Record<string, unknown>> = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('{')) continue;
    try {
      const value: unknown = JSON.parse(trimmed);
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) objects.push(value as Record<string, unknown>);
    } catch {
      // a partial or plain-text line
    }
  }
  return objects;
}

/** A nested field, or undefined: `field(o, 'error', 'message')`. */
export function field(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

export function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/** Credentials the provider refused: retrying cannot help until a person fixes them. */
const AUTH =
  /authentication_error|permission_error|invalid[ _-]?(x-)?api[ _-]?key|incorrect api key|api key not valid|invalid_api_key|\bunauthori[sz]ed\b|\bunauthenticated\b|permission_denied|please run \/login|not logged in|\b(status|code)["':=\s]{1,4}40[13]\b|\b40[13] (unauthori[sz]ed|forbidden)/i;

/**
 * Rate limits, overload, usage or quota exhausted, billing limits: waiting is the cure. A bare
 * number or word is not enough ("line 429", "wrote 503 files", "quota.ts"): a status names itself
 * as one ("status: 429", "(429)", "429 Too Many Requests") and a quota or bill as exhausted.
 */
const RATE_LIMITED = new RegExp(
  [
    '\\b(status|code|error)["\':=\\s]{1,4}(429|529|503)\\b',
    '\\((429|529|503)\\)',
    '\\b(429|529|503) (too many requests|overloaded|service unavailable)',
    'rate[ _-]?limit(ed|s|_error| exceeded| reached)?\\b',
    'too many requests',
    'overloaded',
    'resource[ _-]?exhausted',
    'quota (exceeded|exhausted)|exceeded (your|the)[a-z ]{0,20} quota|insufficient_quota|out of quota',
    'usage[ _-]?limit',
    'credit balance',
    'billing (details|limit|error)|billing_error',
    'hit your ([a-z0-9-]+ )?limit',
    'limit reached',
    'service unavailable',
    'high demand',
    'at capacity',
  ].join('|'),
  'i',
);

export function looksLikeAuthFailure(message: string): boolean {
  return AUTH.test(message);
}

export function looksRateLimited(message: string): boolean {
  return RATE_LIMITED.test(message);
}

/** An HTTP status the provider answered with, as a verdict (null when the status says neither). */
export function verdictOfStatus(status: number | undefined, reason: string, now: number, retryText = reason): Verdict | null {
  if (status === 401 || status === 403) return { kind: 'auth', reason };
  if (status === 429 || status === 529 || status === 503 || status === 402) return { kind: 'rate_limited', reason, retryAt: parseRetryAt(retryText, now) };
  return null;
}

/**
 * An error's words as a verdict: credentials, else a limit, else a failure. `evidence` is what is
 * searched (the reason itself, or the end of stderr where a CLI dumped the provider's error).
 */
export function verdictOfMessage(reason: string, now: number, retryText = reason, evidence = reason): Verdict {
  if (looksLikeAuthFailure(evidence)) return { kind: 'auth', reason };
  if (looksRateLimited(evidence)) return { kind: 'rate_limited', reason, retryAt: parseRetryAt(retryText, now) };
  return { kind: 'failed', reason };
}

/** The end of some text, where a CLI that crashed on an API error dumped it. */
export function ending(value: string, chars = 2000): string {
  return value.length > chars ? value.slice(-chars) : value;
}

/** The last non-empty line of some text, trimmed and bounded: "what the worker said last". */
export function lastLine(value: string, max = 500): string | undefined {
  const lines = value.split('\n').map((l) => l.trim()).filter(Boolean);
  const last = lines.at(-1);
  return last === undefined ? undefined : last.length > max ? `${last.slice(0, max)}…` : last;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, sec: 1000, second: 1000, m: 60_000, min: 60_000, minute: 60_000, h: 3_600_000, hr: 3_600_000, hour: 3_600_000, d: 86_400_000, day: 86_400_000 };
// Not `\b` after the unit: in a compact span ("1m30s", "1h2m3s") a digit follows it directly.
const SPAN_PART = /(\d+(?:\.\d+)?)\s*(ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d)(?![a-z])/gi;
/** A clock time this recently past still means "now". */
const RECENT_MS = 15 * 60_000;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

function unitMs(unit: string): number {
  const u = unit.toLowerCase();
  return UNIT_MS[u] ?? UNIT_MS[u.replace(/s$/, '')] ?? 1000;
}

/** "2h 30m", "34.5s", "5 minutes": a span in ms, or null. */
function parseSpan(phrase: string): number | null {
  let total = 0;
  let found = false;
  for (const match of phrase.matchAll(SPAN_PART)) {
    total += Number(match[1]) * unitMs(match[2]!);
    found = true;
  }
  return found ? total : null;
}

/** An epoch in seconds or milliseconds (by magnitude). */
function epochMs(value: number): number {
  return value < 1e12 ? value * 1000 : value;
}

/** How far `zone` (an IANA name such as UTC or Europe/Paris) is ahead of UTC at `at`; null for an unknown zone. */
function zoneOffsetMs(zone: string, at: number): number | null {
  try {
    const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' }).formatToParts(at);
    const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
    return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - Math.floor(at / 1000) * 1000;
  } catch {
    return null;
  }
}

/**
 * "5:51 PM", "17:51", "3pm", optionally after "Dec 3rd, 2026" and before a zone "(UTC)": the next such
 * time after `now`, in that zone, else in local time.
 */
function clockTime(phrase: string, now: number, zone?: string): number | null {
  const offset = zone === undefined ? null : zoneOffsetMs(zone, now);
  if (offset !== null) {
    // The same wall-clock arithmetic, done on a clock shifted into the zone, then shifted back.
    const shifted = clockTimeLocal(phrase, now + offset - localOffsetMs(now + offset));
    return shifted === null ? null : shifted - offset + localOffsetMs(shifted);
  }
  return clockTimeLocal(phrase, now);
}

function localOffsetMs(at: number): number {
  return -new Date(at).getTimezoneOffset() * 60_000;
}

function clockTimeLocal(phrase: string, now: number): number | null {
  // The time ends the phrase: anchored there, a date before it ("Dec 3rd") is not read as the hour.
  const time = /(\d{1,2})(?::(\d{2}))?\s*([ap]\.?m\.?)?\s*$/i.exec(phrase);
  if (!time || (time[2] === undefined && time[3] === undefined)) return null;
  let hours = Number(time[1]);
  const minutes = Number(time[2] ?? 0);
  const meridiem = time[3]?.toLowerCase().replace(/\./g, '');
  if (meridiem === 'pm' && hours < 12) hours += 12;
  if (meridiem === 'am' && hours === 12) hours = 0;
  if (hours > 23 || minutes > 59) return null;
  const date = new Date(now);
  const day = /\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?/i.exec(phrase);
  if (day) {
    const year = day[3] ? Number(day[3]) : date.getFullYear();
    const at = new Date(year, MONTHS.indexOf(day[1]!.toLowerCase()), Number(day[2]), hours, minutes).getTime();
    return day[3] || at > now ? at : new Date(year + 1, MONTHS.indexOf(day[1]!.toLowerCase()), Number(day[2]), hours, minutes).getTime();
  }
  date.setHours(hours, minutes, 0, 0);
  // A time to the minute that has just passed ("try again at 5:51 PM", printed at 5:51:30) is now,
  // not tomorrow: the end of that minute.
  if (date.getTime() <= now && now - date.getTime() < RECENT_MS) return Math.max(now, date.getTime() + 60_000);
  if (date.getTime() <= now) date.setDate(date.getDate() + 1);
  return date.getTime();
}

/**
 * When the provider said to come back, from what the agent printed: structured fields first
 * (`resets_at`, `resets_in_seconds`, `retry-after`, `retryDelay`), then words ("try again in 5
 * minutes", "try again at 5:51 PM", "resets 3pm", "limit reached|1712345678"). Null when it said nothing.
 */
export function parseRetryAt(message: string, now: number): number | null {
  const epoch = /resets?_?at["'\s:=]+(\d{10,13})\b/i.exec(message) ?? /limit reached\|(\d{10,13})\b/i.exec(message);
  if (epoch) return epochMs(Number(epoch[1]));
  const iso = /reset(?:s|_at)?["'\s:=]+(?:at\s+)?"?(\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)/i.exec(message);
  if (iso && !Number.isNaN(Date.parse(iso[1]!))) return Date.parse(iso[1]!);
  const seconds = /(?:resets?_in_seconds|retry[_-]after(?:_seconds)?|retry-after)["'\s:=]+(\d+(?:\.\d+)?)\b(?!\s*(?:ms|m\b|min|h\b))/i.exec(message);
  if (seconds) return now + Number(seconds[1]) * 1000;
  const retryAfterMs = /retry[_-]after[_-]ms["'\s:=]+(\d+)/i.exec(message);
  if (retryAfterMs) return now + Number(retryAfterMs[1]);
  const delay = /retryDelay["'\s:=]+"?(\d+(?:\.\d+)?)s/i.exec(message);
  if (delay) return now + Number(delay[1]) * 1000;
  const inSpan = /(?:try again|retry|resets?|available again|wait)\s+(?:in|after)\s+((?:\d+(?:\.\d+)?\s*[a-z]+[\s,]*(?:and\s+)?){1,4})/i.exec(message);
  if (inSpan) {
    const span = parseSpan(inSpan[1]!);
    if (span !== null) return now + span;
  }
  const atTime = /(?:try again|retry|resets?|available again)\s+(?:at|after|on)?\s*((?:[a-z]{3,9}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+(?:\d{4},?\s+)?(?:at\s+)?)?\d{1,2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?)(?:\s*\(([A-Za-z_]+(?:\/[A-Za-z_+-]+)*)\))?/i.exec(message);
  if (atTime) return clockTime(atTime[1]!, now, atTime[2]);
  return null;
}
