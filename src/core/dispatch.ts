/**
 * The dispatcher's queries and transitions, their pure parts, decided once for every backend: which
 * task a dispatcher transition may still act on (else `Refused`, in the store's words), what a run's
 * cooldown is, how running tasks count, and how far an event cursor moves.
 */
import { Refused } from '../errors.js';
import type { RunRow, TaskRow } from './types.js';

/** Running tasks counted from `(assignee, n)` groups: in all, and by assignee (unassigned ones only in the total). */
export function runningCountsOf(groups: ReadonlyArray<{ assignee: string | null; n: number }>): { total: number; byAssignee: Map<string, number> } {
  const byAssignee = new Map<string, number>();
  let total = 0;
  for (const { assignee, n } of groups) {
    total += n;
    if (assignee !== null) byAssignee.set(assignee, n);
  }
  return { total, byAssignee };
}

/** A run's cooldown from the latest of its events that set one (null: none, or its `cooldown_until` is not a number). */
export function cooldownFrom(event: { payload: Record<string, unknown>; created_at: number } | undefined): { setAt: number; until: number } | null {
  const until = event?.payload.cooldown_until;
  return typeof until === 'number' ? { setAt: event!.created_at, until } : null;
}

/** releaseSchedule: refused unless the task is scheduled and due at `now`. */
export function requireDueSchedule(task: TaskRow, now: number): void {
  if (task.status !== 'scheduled' || task.scheduled_until === null || task.scheduled_until > now) {
    throw new Refused(`${task.id} is no longer a due scheduled task`);
  }
}

/** reclaimGhost: refused unless the task is running without a usable claim (`run`: the run its identity names, if any). */
export function requireGhost(task: TaskRow, run: RunRow | undefined | null): void {
  if (task.status !== 'running' || (run && run.status === 'running')) throw new Refused(`${task.id} is not a running task without a claim`);
}

/** The default assignee is given only to a task that is ready and unassigned (a claim's assignDefaultIn). */
export function requireUnassignedReady(task: TaskRow): void {
  if (task.status !== 'ready' || task.assignee !== null) throw new Refused(`${task.id} is no longer an unassigned ready task`);
}

/** The failure limit a blocked task is recovered under: its own max_retries, else the board's. */
export function recoveryLimit(task: TaskRow, boardLimit: number): number {
  return task.max_retries ?? boardLimit;
}

/**
 * Where a take moves its cursor: past the last event taken when it took `limit` of them (more may
 * follow), else past everything up to `latest` (the events of other kinds too).
 */
export function cursorTarget(taken: ReadonlyArray<{ id: number }>, limit: number, latest: number): number {
  return taken.length === limit ? taken[taken.length - 1]!.id : latest;
}
