import { COMMENTS_IN_CONTEXT } from '../core/reads.js';
import type { CommentRow } from '../core/types.js';
import type { TaskContext } from '../port/types.js';
import { requireTaskRow } from './rows.js';
import type { Tx } from './tx.js';

/**
 * What a run is handed, as SQLite's (store/context.ts): the task, its parents in the order they were
 * finished (unfinished ones, whose completed_at is null, first, as SQLite sorts nulls), and the
 * newest comments, oldest first.
 */
export async function loadTaskContext(tx: Tx, taskId: string): Promise<TaskContext> {
  const task = await requireTaskRow(tx, taskId);
  const parents = await tx.rows<TaskContext['parents'][number]>(
    `SELECT p.id, p.title, p.status, p.summary, p.workspace_path FROM task_links l JOIN tasks p ON p.id = l.parent_id
     WHERE l.child_id = $1 ORDER BY p.completed_at NULLS FIRST, p.id COLLATE "C"`,
    [taskId],
  );
  const newest = await tx.rows<CommentRow>('SELECT * FROM task_comments WHERE task_id = $1 ORDER BY id DESC LIMIT $2', [taskId, COMMENTS_IN_CONTEXT]);
  return { task, parents, comments: newest.reverse() };
}
