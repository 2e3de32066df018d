import { Refused } from '../errors.js';
import { FINISHED_STATUSES, OPEN_STATUSES, type Status } from '../core/types.js';

/**
 * What a person (or a worker's report) may do to a task, and from which statuses: the one table the
 * store's refusals, the board's keys (src/ui/commands.ts) and the README's key table are read from.
 * Pure: no I/O.
 */
export type Transition =
  | 'block'
  | 'stop-and-block'
  | 'unblock'
  | 'schedule'
  | 'promote'
  | 'complete'
  | 'approve'
  | 'request-changes'
  | 'reopen'
  | 'archive'
  | 'reclaim';

const OPEN = OPEN_STATUSES;
const FINISHED = FINISHED_STATUSES;
/** Open and not running: what a person may change without stopping a worker first. */
const WAITING: readonly Status[] = OPEN.filter((s) => s !== 'running');

export const TRANSITIONS: Readonly<Record<Transition, { from: readonly Status[]; verb: string }>> = {
  block: { from: WAITING.filter((s) => s !== 'blocked'), verb: 'block' },
  /** Block, stopping the worker of a running task first (its run closed `blocked`, not counted). */
  'stop-and-block': { from: OPEN.filter((s) => s !== 'blocked'), verb: 'block' },
  unblock: { from: ['blocked', 'scheduled'], verb: 'unblock' },
  schedule: { from: WAITING, verb: 'schedule' },
  promote: { from: ['triage', 'todo', 'blocked'], verb: 'promote' },
  complete: { from: OPEN, verb: 'complete' },
  approve: { from: ['review'], verb: 'approve' },
  'request-changes': { from: ['review'], verb: 'request changes on' },
  reopen: { from: FINISHED, verb: 'reopen' },
  archive: { from: [...WAITING, 'done'], verb: 'archive' },
  reclaim: { from: ['running'], verb: 'reclaim' },
};

/** Whether `transition` may start from `status`. */
export function allows(transition: Transition, status: Status): boolean {
  return TRANSITIONS[transition].from.includes(status);
}

/** Why `transition` is refused on a task in `status` (null: it is allowed), in the store's words. */
export function refusal(transition: Transition, task: { id: string; status: Status }): string | null {
  if (allows(transition, task.status)) return null;
  const hint = task.status === 'running' ? ' (reclaim it first)' : '';
  return `cannot ${TRANSITIONS[transition].verb} ${task.id}: it is ${task.status}${transition === 'reclaim' ? ', not running' : hint}`;
}

/** Refuses (`Refused`, the refusal's words) unless the task's status allows `transition`. */
export function requireTransition(task: { id: string; status: Status }, transition: Transition): void {
  const why = refusal(transition, task);
  if (why !== null) throw new Refused(why);
}

/** Where a task goes when it may run again (created, unblocked, released, reopened): ready, or todo while a parent is unfinished. */
export function readyOrTodo(unfinishedParents: number): Status {
  return unfinishedParents > 0 ? 'todo' : 'ready';
}
