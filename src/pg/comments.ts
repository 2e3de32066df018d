import { InvalidInput } from '../errors.js';
import type { CommentRow } from '../core/types.js';
import { insertComment, requireTaskRow } from './rows.js';
import type { Tx } from './tx.js';

export async function commentsForTask(tx: Tx, taskId: string): Promise<CommentRow[]> {
  return tx.rows<CommentRow>('SELECT * FROM task_comments WHERE task_id = $1 ORDER BY id', [taskId]);
}

/** Adds a person's comment to a task (event `commented`). */
export async function addComment(tx: Tx, taskId: string, text: string): Promise<CommentRow> {
  if (text.trim() === '') throw new InvalidInput('a comment needs some text');
  await requireTaskRow(tx, taskId);
  return insertComment(tx, taskId, 'user', text);
}
