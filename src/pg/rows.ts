import { NotFound, Refused } from '../errors.js';
import { FINISHED_SQL } from '../core/sql.js';
import { readyOrTodo as whereItMayRun } from '../core/transitions.js';
import type { CommentRow, RunOutcome, Status, Task, TaskRow } from '../core/types.js';
import type { UnfinishedParent } from '../port/types.js';
import { storableJson, type Tx } from './tx.js';

/**
 * The PostgreSQL adapter's shared pieces: the rows every transition reads and writes, in the same
 * shapes and with the same rules as SQLite's (src/store/rows.ts, events.ts, runs.ts, links.ts). Lock
 * order, as there: a transition that touches a task and its run takes the task first (FOR UPDATE in
 * a write), then the run.
 */

import type { TaskChanges } from '../core/task-fields.js';

export type { TaskChanges };

/** The task's row; in a writing transaction it is locked until commit. */
export async function getTaskRow(tx: Tx, id: string): Promise<TaskRow | undefined> {
  return tx.row<TaskRow>(`SELECT * FROM tasks WHERE id = $1${tx.forUpdate}`, [id]);
}

export async function requireTaskRow(tx: Tx, id: string): Promise<TaskRow> {
  const row = await getTaskRow(tx, id);
  if (!row) throw new NotFound(`no such task: ${id}`);
  return row;
}

/** `SET a = $k, b = $k+1, …` for `changes`, its parameters numbered from `first`. */
export function assignments(changes: Record<string, unknown>, first: number): { sql: string; params: unknown[] } {
  const columns = Object.keys(changes);
  return { sql: columns.map((column, i) => `${column} = $${first + i}`).join(', '), params: columns.map((c) => changes[c]) };
}

/**
 * Writes `changes` to a task as a compare-and-set on the status it was read in. Zero rows changed
 * means someone moved it first: refused, nothing written. Returns the task as it now is.
 */
export async function updateTask(tx: Tx, before: TaskRow, changes: TaskChanges): Promise<TaskRow> {
  const set = assignments(changes, 4);
  const changed = await tx.run(`UPDATE tasks SET ${set.sql}${set.sql ? ', ' : ''}updated_at = $1 WHERE id = $2 AND status = $3`, [tx.now, before.id, before.status, ...set.params]);
  if (changed === 0) throw new Refused(`${before.id} changed while this was being done; try again`);
  return { ...before, ...changes, updated_at: tx.now };
}

/** Appends one event; every change to a task calls this inside the change's transaction. */
export async function appendEvent(tx: Tx, taskId: string, kind: string, payload: Record<string, unknown> = {}, runId: number | null = null): Promise<void> {
  await tx.run('INSERT INTO task_events (task_id, run_id, kind, payload, created_at) VALUES ($1, $2, $3, $4::jsonb, $5)', [taskId, runId, kind, storableJson(payload), tx.now]);
}

export interface RunEnding {
  outcome: RunOutcome;
  summary?: string | null;
  error?: string | null;
  exit_code?: number | null;
}

/** Closes a task's open run, if it has one. Returns whether a run was closed. */
export async function endOpenRun(tx: Tx, taskId: string, runId: number | null, ending: RunEnding): Promise<boolean> {
  if (runId === null) return false;
  const changed = await tx.run(
    `UPDATE task_runs SET status = 'ended', ended_at = $3, outcome = $4, summary = $5, error = $6, exit_code = $7
     WHERE id = $1 AND task_id = $2 AND status = 'running'`,
    [runId, taskId, tx.now, ending.outcome, ending.summary ?? null, ending.error ?? null, ending.exit_code ?? null],
  );
  return changed > 0;
}

/** Parents that still hold the task back (anything but done or archived). */
export async function unfinishedParents(tx: Tx, childId: string): Promise<UnfinishedParent[]> {
  return tx.rows<UnfinishedParent>(
    `SELECT p.id, p.status FROM task_links l JOIN tasks p ON p.id = l.parent_id
     WHERE l.child_id = $1 AND p.status NOT IN ${FINISHED_SQL} ORDER BY p.id`,
    [childId],
  );
}

/** Where a released task goes: ready, or todo while a parent is unfinished. */
export async function readyOrTodo(tx: Tx, id: string): Promise<Status> {
  return whereItMayRun((await unfinishedParents(tx, id)).length);
}

export async function parentIds(tx: Tx, childId: string): Promise<string[]> {
  return tx.column<string>('SELECT parent_id FROM task_links WHERE child_id = $1 ORDER BY parent_id', [childId]);
}

export async function childIds(tx: Tx, parentId: string): Promise<string[]> {
  return tx.column<string>('SELECT child_id FROM task_links WHERE parent_id = $1 ORDER BY child_id', [parentId]);
}

export async function toTask(tx: Tx, row: TaskRow): Promise<Task> {
  return { ...row, parents: await parentIds(tx, row.id), children: await childIds(tx, row.id) };
}

export async function insertLink(tx: Tx, parentId: string, childId: string): Promise<void> {
  await tx.run('INSERT INTO task_links (parent_id, child_id, created_at) VALUES ($1, $2, $3)', [parentId, childId, tx.now]);
}

/** A comment and its `commented` event, inside the caller's transaction. */
export async function insertComment(tx: Tx, taskId: string, author: 'user' | 'reviewer', text: string): Promise<CommentRow> {
  const comment = (await tx.row<CommentRow>('INSERT INTO task_comments (task_id, run_id, author, body, created_at) VALUES ($1, NULL, $2, $3, $4) RETURNING *', [taskId, author, text, tx.now]))!;
  await appendEvent(tx, taskId, 'commented', { comment_id: comment.id, author });
  return comment;
}
