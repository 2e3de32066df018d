import type { Store } from './db.js';
import { commentsForTask } from './comments.js';
import { requireTaskRow } from './rows.js';
import type { TaskContext } from '../port/types.js';
import { COMMENTS_IN_CONTEXT } from '../core/reads.js';

export function loadTaskContext(store: Store, taskId: string): TaskContext {
  return store.readTxn(() => ({
    task: requireTaskRow(store, taskId),
    parents: store
      .stmt(
        `SELECT p.id, p.title, p.status, p.summary, p.workspace_path FROM task_links l JOIN tasks p ON p.id = l.parent_id
         WHERE l.child_id = ? ORDER BY p.completed_at, p.id`,
      )
      .all(taskId) as TaskContext['parents'],
    comments: commentsForTask(store, taskId).slice(-COMMENTS_IN_CONTEXT),
  }));
}
