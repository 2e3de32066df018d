import { InvalidInput } from '../errors.js';
import type { Store } from './db.js';
import { appendEvent } from './events.js';
import { requireTaskRow } from './rows.js';
import type { CommentRow } from '../core/types.js';

export function commentsForTask(store: Store, taskId: string): CommentRow[] {
  return store.stmt('SELECT * FROM task_comments WHERE task_id = ? ORDER BY id').all(taskId) as CommentRow[];
}

/** Adds a person's comment to a task (event `commented`). */
export function addComment(store: Store, taskId: string, text: string): CommentRow {
  if (text.trim() === '') throw new InvalidInput('a comment needs some text');
  return store.writeTxn(() => {
    requireTaskRow(store, taskId);
    return insertComment(store, taskId, 'user', text);
  });
}

/** A comment and its `commented` event, inside the caller's transaction. */
export function insertComment(store: Store, taskId: string, author: 'user' | 'reviewer', text: string): CommentRow {
  const comment = store
    .stmt('INSERT INTO task_comments (task_id, run_id, author, body, created_at) VALUES (?, NULL, ?, ?, ?) RETURNING *')
    .get(taskId, author, text, store.clock.now()) as CommentRow;
  appendEvent(store, taskId, 'commented', { comment_id: comment.id, author });
  return comment;
}
