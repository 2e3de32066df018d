import { describePayload } from '../event-words.js';
import { cleanLine } from '../sanitize.js';
import type { EventRow } from '../core/types.js';
import { formatWhen } from '../time.js';

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
