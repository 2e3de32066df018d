import { InvalidInput, Refused } from '../errors.js';
import type { Store } from './db.js';
import { insertComment } from './comments.js';
import { appendEvent } from './events.js';
import { promoteChildrenOf, unfinishedParents } from './links.js';
import { requireTaskRow, updateTask } from './rows.js';
import { requireTransition } from '../core/transitions.js';
import { identityOf, NO_CLAIM, parentNotDone, type RunIdentity } from '../core/run.js';

export { NO_CLAIM };
import { endOpenRun } from './runs.js';
import { toTask } from './tasks.js';
import type { Status, Task, TaskRow } from '../core/types.js';
import { readyOrTodo as whereItMayRun } from '../core/transitions.js';
import type { PromoteOptions } from '../port/types.js';

/** Where a released task goes: ready, or todo while a parent is unfinished. */
export function readyOrTodo(store: Store, id: string): Status {
  return whereItMayRun(unfinishedParents(store, id).length);
}

/**
 * Sticky block: the dispatcher never recovers it; only `unblock` (or promote) releases it. A running
 * task is refused here: blocking it stops its worker, which is `stopAndBlock`'s.
 */
export function blockTask(store: Store, id: string, reason: string | null = null): Task {
  return store.writeTxn(() => {
    const before = requireTaskRow(store, id);
    requireTransition(before, 'block');
    return toTask(store, markBlocked(store, before, reason));
  });
}

/**
 * `kanban block` (and the board's `b`): a sticky block, on a running task too. There, in the same
 * transaction, its open run is closed `blocked` with the reason (not counted: the failure counter is
 * untouched), compare-and-set on that run, so a worker whose exit is recorded at the same moment
 * cannot also decide how it ended; and the claim is dropped. `stopped` is that run: stopping its
 * worker, after the commit, is the caller's (dispatcher/reclaim.ts). A task marked running without
 * an open run (a ghost) is just blocked.
 */
export function stopAndBlock(store: Store, id: string, reason: string | null = null): { task: TaskRow; stopped: RunIdentity | null } {
  return store.writeTxn(() => {
    const before = requireTaskRow(store, id);
    requireTransition(before, 'stop-and-block');
    const run = identityOf(before);
    const ending = { outcome: 'blocked', summary: reason, error: `stopped by a person${reason ? `: ${reason}` : ''}` } as const;
    const stopped = run && endOpenRun(store, id, run.runId, ending) ? run : null;
    return { task: markBlocked(store, before, reason), stopped };
  });
}

/** A person's block; leaving running drops the claim. */
function markBlocked(store: Store, before: TaskRow, reason: string | null): TaskRow {
  const running = before.status === 'running';
  const after = updateTask(store, before, { ...(running ? NO_CLAIM : {}), status: 'blocked', status_reason: reason, scheduled_until: null });
  appendEvent(store, before.id, 'blocked', { from: before.status, reason, source: 'user', sticky: true }, running ? before.current_run_id : null);
  return after;
}

/** blocked or scheduled → ready (todo while a parent is unfinished); the failure counter starts again. */
export function unblockTask(store: Store, id: string): Task {
  return store.writeTxn(() => {
    const before = requireTaskRow(store, id);
    requireTransition(before, 'unblock');
    const to = readyOrTodo(store, id);
    const after = updateTask(store, before, { status: to, status_reason: null, scheduled_until: null, consecutive_failures: 0 });
    appendEvent(store, id, 'unblocked', { from: before.status, to, source: 'user', failures_reset: before.consecutive_failures });
    return toTask(store, after);
  });
}

/** Parks a task until `until` (epoch ms); the dispatcher releases it when due. */
export function scheduleTask(store: Store, id: string, until: number, reason: string | null = null): Task {
  return store.writeTxn(() => {
    const now = store.clock.now();
    if (!Number.isFinite(until) || until <= now) {
      throw new InvalidInput(`cannot schedule ${id} for ${new Date(until).toISOString()}: that time has passed`);
    }
    const before = requireTaskRow(store, id);
    requireTransition(before, 'schedule');
    const after = updateTask(store, before, { status: 'scheduled', scheduled_until: until, status_reason: reason });
    appendEvent(store, id, 'scheduled', { from: before.status, until, reason });
    return toTask(store, after);
  });
}

/**
 * triage/todo/blocked → ready (event `promoted_manual`). Refused while a parent is unfinished unless
 * forced. From blocked it clears the failure counter, as unblock does, so the breaker does not trip
 * again on the next failure.
 */
export function promoteTask(store: Store, id: string, options: PromoteOptions = {}): Task {
  const promote = (): Task => {
    const before = requireTaskRow(store, id);
    requireTransition(before, 'promote');
    const unfinished = unfinishedParents(store, id);
    if (unfinished.length > 0 && !options.force) {
      throw new Refused(`cannot promote ${id}: ${parentNotDone(unfinished[0]!)} (--force promotes anyway)`);
    }
    const changes = { status: 'ready', status_reason: null, scheduled_until: null, consecutive_failures: 0 } as const;
    if (options.dryRun) return toTask(store, { ...before, ...changes });
    const after = updateTask(store, before, changes);
    appendEvent(store, id, 'promoted_manual', {
      from: before.status,
      to: 'ready',
      forced: unfinished.length > 0,
      unfinished_parents: unfinished.map((p) => p.id),
    });
    return toTask(store, after);
  };
  return options.dryRun ? store.readTxn(promote) : store.writeTxn(promote);
}

/**
 * Any open status → done. A running task's open run is closed and its claim dropped, so the worker's
 * later writes are refused. Children whose parents are now all finished go ready (`promoted`).
 */
export function completeTask(store: Store, id: string, summary: string | null = null): Task {
  return store.writeTxn(() => {
    const before = requireTaskRow(store, id);
    requireTransition(before, 'complete');
    if (before.status === 'running') {
      endOpenRun(store, id, before.current_run_id, { outcome: 'completed', summary, error: 'completed by a person, not the worker' });
    }
    return toTask(store, markDone(store, before, summary, 'user'));
  });
}

/**
 * The write every completion shares (a person's, a worker's, a clean exit's): done, claim dropped,
 * failure counter reset, event `completed`, and the children that were waiting on it released.
 */
export function markDone(store: Store, before: TaskRow, summary: string | null, source: 'user' | 'worker' | 'clean_exit'): TaskRow {
  const after = updateTask(store, before, {
    ...NO_CLAIM,
    status: 'done',
    summary,
    completed_at: store.clock.now(),
    consecutive_failures: 0,
    status_reason: null,
    scheduled_until: null,
  });
  appendEvent(store, before.id, 'completed', { from: before.status, summary, source }, before.current_run_id);
  promoteChildrenOf(store, before.id);
  return after;
}

/**
 * Finished work waits for a person: review, claim dropped, the summary kept, failure counter reset.
 * From a run (the worker's `worker review`, or an agent whose profile says `on_success: review`).
 */
export function sendToReview(store: Store, before: TaskRow, summary: string | null, source: 'worker' | 'clean_exit'): TaskRow {
  const after = updateTask(store, before, { ...NO_CLAIM, status: 'review', summary, consecutive_failures: 0, status_reason: null });
  appendEvent(store, before.id, 'review', { from: before.status, summary, source }, before.current_run_id);
  return after;
}

/** review → done: a person approves the work (event `approved`, then `completed`). */
export function approveTask(store: Store, id: string): Task {
  return store.writeTxn(() => {
    const before = requireTaskRow(store, id);
    requireTransition(before, 'approve');
    appendEvent(store, id, 'approved', { source: 'user' });
    return toTask(store, markDone(store, before, before.summary, 'user'));
  });
}

/**
 * review → ready (todo while a parent is unfinished): a person sends the work back with what to fix,
 * as a comment the next run's prompt includes (event `changes_requested`).
 */
export function requestChanges(store: Store, id: string, feedback: string): Task {
  if (feedback.trim() === '') throw new InvalidInput('request-changes needs the feedback: what to fix');
  return store.writeTxn(() => {
    const before = requireTaskRow(store, id);
    requireTransition(before, 'request-changes');
    const comment = insertComment(store, id, 'reviewer', feedback);
    const to = readyOrTodo(store, id);
    const after = updateTask(store, before, { status: to, status_reason: null });
    appendEvent(store, id, 'changes_requested', { from: 'review', to, comment_id: comment.id, source: 'user' });
    return toTask(store, after);
  });
}

/**
 * done or archived → ready (todo while a parent is unfinished): the work is wanted again. Its summary
 * and completion time stay until a run ends it anew; its children are left as they are (event
 * `reopened`).
 */
export function reopenTask(store: Store, id: string): Task {
  return store.writeTxn(() => {
    const before = requireTaskRow(store, id);
    requireTransition(before, 'reopen');
    const to = readyOrTodo(store, id);
    const after = updateTask(store, before, { status: to, status_reason: null });
    appendEvent(store, id, 'reopened', { from: before.status, to, source: 'user' });
    return toTask(store, after);
  });
}

/** Hides a task. An archived parent no longer holds its children back. `source`: who, when not a person (`gc`). */
export function archiveTask(store: Store, id: string, source?: 'gc'): Task {
  return store.writeTxn(() => {
    const before: TaskRow = requireTaskRow(store, id);
    requireTransition(before, 'archive');
    const after = updateTask(store, before, { status: 'archived' });
    appendEvent(store, id, 'archived', { from: before.status, ...(source && { source }) });
    promoteChildrenOf(store, id);
    return toTask(store, after);
  });
}
