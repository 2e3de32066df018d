import { InvalidInput, Refused } from '../errors.js';
import { identityOf, NO_CLAIM, parentNotDone, type RunIdentity } from '../core/run.js';
import { requireTransition } from '../core/transitions.js';
import type { Task, TaskRow } from '../core/types.js';
import type { PromoteOptions } from '../port/types.js';
import { promoteChildrenOf } from './links.js';
import { appendEvent, endOpenRun, insertComment, readyOrTodo, requireTaskRow, toTask, unfinishedParents, updateTask } from './rows.js';
import type { Tx } from './tx.js';

/**
 * A person's transitions on a PostgreSQL board: SQLite's (store/lifecycle.ts), the same rules, events
 * and words. Each runs inside the port call's transaction (SERIALIZABLE): the task is read FOR UPDATE
 * first (requireTaskRow), then its run, the lock order every transition keeps.
 */

/**
 * Sticky block: the dispatcher never recovers it; only `unblock` (or promote) releases it. A running
 * task is refused here: blocking it stops its worker, which is `stopAndBlock`'s.
 */
export async function blockTask(tx: Tx, id: string, reason: string | null = null): Promise<Task> {
  const before = await requireTaskRow(tx, id);
  requireTransition(before, 'block');
  return toTask(tx, await markBlocked(tx, before, reason));
}

/**
 * `kanban block` on any status it may be blocked from: a running task's open run is closed `blocked`
 * (not counted), compare-and-set on that run, and its claim dropped, in the same transaction.
 * `stopped` is that run, whose worker the caller stops once this has committed.
 */
export async function stopAndBlock(tx: Tx, id: string, reason: string | null = null): Promise<{ task: TaskRow; stopped: RunIdentity | null }> {
  const before = await requireTaskRow(tx, id);
  requireTransition(before, 'stop-and-block');
  const run = identityOf(before);
  const ending = { outcome: 'blocked', summary: reason, error: `stopped by a person${reason ? `: ${reason}` : ''}` } as const;
  const stopped = run && (await endOpenRun(tx, id, run.runId, ending)) ? run : null;
  return { task: await markBlocked(tx, before, reason), stopped };
}

/** A person's block; leaving running drops the claim. */
async function markBlocked(tx: Tx, before: TaskRow, reason: string | null): Promise<TaskRow> {
  const running = before.status === 'running';
  const after = await updateTask(tx, before, { ...(running ? NO_CLAIM : {}), status: 'blocked', status_reason: reason, scheduled_until: null });
  await appendEvent(tx, before.id, 'blocked', { from: before.status, reason, source: 'user', sticky: true }, running ? before.current_run_id : null);
  return after;
}

/** blocked or scheduled → ready (todo while a parent is unfinished); the failure counter starts again. */
export async function unblockTask(tx: Tx, id: string): Promise<Task> {
  const before = await requireTaskRow(tx, id);
  requireTransition(before, 'unblock');
  const to = await readyOrTodo(tx, id);
  const after = await updateTask(tx, before, { status: to, status_reason: null, scheduled_until: null, consecutive_failures: 0 });
  await appendEvent(tx, id, 'unblocked', { from: before.status, to, source: 'user', failures_reset: before.consecutive_failures });
  return toTask(tx, after);
}

/** Parks a task until `until` (epoch ms); the dispatcher releases it when due. */
export async function scheduleTask(tx: Tx, id: string, until: number, reason: string | null = null): Promise<Task> {
  if (!Number.isFinite(until) || until <= tx.now) {
    throw new InvalidInput(`cannot schedule ${id} for ${new Date(until).toISOString()}: that time has passed`);
  }
  const before = await requireTaskRow(tx, id);
  requireTransition(before, 'schedule');
  const after = await updateTask(tx, before, { status: 'scheduled', scheduled_until: until, status_reason: reason });
  await appendEvent(tx, id, 'scheduled', { from: before.status, until, reason });
  return toTask(tx, after);
}

/**
 * triage/todo/blocked → ready (event `promoted_manual`). Refused while a parent is unfinished unless
 * forced. From blocked it clears the failure counter, as unblock does. A dry run writes nothing.
 */
export async function promoteTask(tx: Tx, id: string, options: PromoteOptions = {}): Promise<Task> {
  const before = await requireTaskRow(tx, id);
  requireTransition(before, 'promote');
  const unfinished = await unfinishedParents(tx, id);
  if (unfinished.length > 0 && !options.force) {
    throw new Refused(`cannot promote ${id}: ${parentNotDone(unfinished[0]!)} (--force promotes anyway)`);
  }
  const changes = { status: 'ready', status_reason: null, scheduled_until: null, consecutive_failures: 0 } as const;
  if (options.dryRun) return toTask(tx, { ...before, ...changes });
  const after = await updateTask(tx, before, changes);
  await appendEvent(tx, id, 'promoted_manual', {
    from: before.status,
    to: 'ready',
    forced: unfinished.length > 0,
    unfinished_parents: unfinished.map((p) => p.id),
  });
  return toTask(tx, after);
}

/**
 * Any open status → done. A running task's open run is closed and its claim dropped, so the worker's
 * later writes are refused. Children whose parents are now all finished go ready (`promoted`).
 */
export async function completeTask(tx: Tx, id: string, summary: string | null = null): Promise<Task> {
  const before = await requireTaskRow(tx, id);
  requireTransition(before, 'complete');
  if (before.status === 'running') {
    await endOpenRun(tx, id, before.current_run_id, { outcome: 'completed', summary, error: 'completed by a person, not the worker' });
  }
  return toTask(tx, await markDone(tx, before, summary, 'user'));
}

/**
 * The write every completion shares (a person's, a worker's, a clean exit's): done, claim dropped,
 * failure counter reset, event `completed`, and the children that were waiting on it released.
 */
export async function markDone(tx: Tx, before: TaskRow, summary: string | null, source: 'user' | 'worker' | 'clean_exit'): Promise<TaskRow> {
  const after = await updateTask(tx, before, {
    ...NO_CLAIM,
    status: 'done',
    summary,
    completed_at: tx.now,
    consecutive_failures: 0,
    status_reason: null,
    scheduled_until: null,
  });
  await appendEvent(tx, before.id, 'completed', { from: before.status, summary, source }, before.current_run_id);
  await promoteChildrenOf(tx, before.id);
  return after;
}

/**
 * Finished work waits for a person: review, claim dropped, the summary kept, failure counter reset.
 * From a run (the worker's `worker review`, or an agent whose profile says `on_success: review`).
 */
export async function sendToReview(tx: Tx, before: TaskRow, summary: string | null, source: 'worker' | 'clean_exit'): Promise<TaskRow> {
  const after = await updateTask(tx, before, { ...NO_CLAIM, status: 'review', summary, consecutive_failures: 0, status_reason: null });
  await appendEvent(tx, before.id, 'review', { from: before.status, summary, source }, before.current_run_id);
  return after;
}

/** review → done: a person approves the work (event `approved`, then `completed`). */
export async function approveTask(tx: Tx, id: string): Promise<Task> {
  const before = await requireTaskRow(tx, id);
  requireTransition(before, 'approve');
  await appendEvent(tx, id, 'approved', { source: 'user' });
  return toTask(tx, await markDone(tx, before, before.summary, 'user'));
}

/**
 * review → ready (todo while a parent is unfinished): a person sends the work back with what to fix,
 * as a comment the next run's prompt includes (event `changes_requested`).
 */
export async function requestChanges(tx: Tx, id: string, feedback: string): Promise<Task> {
  if (feedback.trim() === '') throw new InvalidInput('request-changes needs the feedback: what to fix');
  const before = await requireTaskRow(tx, id);
  requireTransition(before, 'request-changes');
  const comment = await insertComment(tx, id, 'reviewer', feedback);
  const to = await readyOrTodo(tx, id);
  const after = await updateTask(tx, before, { status: to, status_reason: null });
  await appendEvent(tx, id, 'changes_requested', { from: 'review', to, comment_id: comment.id, source: 'user' });
  return toTask(tx, after);
}

/**
 * done or archived → ready (todo while a parent is unfinished): the work is wanted again. Its summary
 * and completion time stay until a run ends it anew; its children are left as they are (event
 * `reopened`).
 */
export async function reopenTask(tx: Tx, id: string): Promise<Task> {
  const before = await requireTaskRow(tx, id);
  requireTransition(before, 'reopen');
  const to = await readyOrTodo(tx, id);
  const after = await updateTask(tx, before, { status: to, status_reason: null });
  await appendEvent(tx, id, 'reopened', { from: before.status, to, source: 'user' });
  return toTask(tx, after);
}

/** Hides a task. An archived parent no longer holds its children back. `source`: who, when not a person (`gc`). */
export async function archiveTask(tx: Tx, id: string, source?: 'gc'): Promise<Task> {
  const before = await requireTaskRow(tx, id);
  requireTransition(before, 'archive');
  const after = await updateTask(tx, before, { status: 'archived' });
  await appendEvent(tx, id, 'archived', { from: before.status, ...(source && { source }) });
  await promoteChildrenOf(tx, id);
  return toTask(tx, after);
}
