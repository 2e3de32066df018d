import { cleanLine } from '../sanitize.js';
import type { EventRow } from '../store/types.js';
import { formatSpan, formatWhen } from '../time.js';

/**
 * An event's payload in words, for `kanban events` and `kanban show`: `ready → todo, reason "needs
 * the key", sticky`. Keys become words, times are shown as every time is (formatWhen), spans in
 * short form; what a worker wrote is stripped of control sequences. Any payload renders, whatever
 * its kind: there is no table of kinds to keep up to date.
 */
export function describePayload(payload: Record<string, unknown>, now: number): string {
  return cut(fields(payload, now), PAYLOAD_MAX);
}

/** An event on one line: `2026-12-01 09:00:00 (5m ago)  t_1a2b3c4d  blocked  run #3  running → blocked, …` (`show` leaves out the task). */
export function formatEventLine(event: EventRow, now: number, withTask = true): string {
  const run = event.run_id !== null ? `  run #${event.run_id}` : '';
  const words = describePayload(event.payload, now);
  return `${formatWhen(event.created_at, now)}  ${withTask ? `${event.task_id}  ` : ''}${cleanLine(event.kind)}${run}${words ? `  ${words}` : ''}`;
}

/** The JSON line for an event: its columns, snake_case, the payload as an object, times in epoch ms. */
export function eventJson(event: EventRow): string {
  const { id, task_id, run_id, kind, payload, created_at } = event;
  return JSON.stringify({ id, task_id, run_id, kind, payload, created_at });
}

const PAYLOAD_MAX = 240;
const STRING_MAX = 80;
/** Keys whose numbers are times (epoch ms) or spans (ms). */
const TIME_KEY = /(^|_)(at|until|expires)$|^previous$/;
const SPAN_KEY = /_ms$/;

function fields(object: Record<string, unknown>, now: number): string {
  const parts: string[] = [];
  const { from, to, ...rest } = object;
  if (to !== undefined) parts.push(`${from === undefined || from === null ? 'new' : value('from', from, now)} → ${value('to', to, now)}`);
  else if (from !== undefined && from !== null) parts.push(`from ${value('from', from, now)}`);
  for (const [key, v] of Object.entries(rest)) {
    if (v === null || v === undefined) continue;
    const words = key.replace(SPAN_KEY, '').replace(/_/g, ' ');
    if (v === true) parts.push(words);
    else if (v === false) parts.push(`not ${words}`);
    else parts.push(`${words} ${value(key, v, now)}`);
  }
  return parts.join(', ');
}

function value(key: string, v: unknown, now: number): string {
  if (typeof v === 'number') return TIME_KEY.test(key) ? formatWhen(v, now) : SPAN_KEY.test(key) ? formatSpan(v) : String(v);
  if (typeof v === 'string') return text(v);
  if (Array.isArray(v)) {
    if (v.length === 0) return 'none';
    return v.every((item) => typeof item !== 'object' || item === null) ? v.map((item) => value(key, item, now)).join(' ') : String(v.length);
  }
  if (typeof v === 'object' && v !== null) {
    const inner = fields(v as Record<string, unknown>, now);
    return 'to' in v && Object.keys(v).length <= 2 ? inner : `(${inner})`;
  }
  return String(v);
}

/** A string as it is when it is one word, quoted when it has spaces (or is empty), cut when long. */
function text(raw: string): string {
  const clean = cut(cleanLine(raw), STRING_MAX);
  return clean === '' || /\s/.test(clean) ? `"${clean}"` : clean;
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
