import { NotFound, Refused } from '../errors.js';
import type { Store } from './db.js';
import type { TaskRow } from '../core/types.js';

export function getTaskRow(store: Store, id: string): TaskRow | undefined {
  return store.stmt('SELECT * FROM tasks WHERE id = ?').get(id) as TaskRow | undefined;
}

export function requireTaskRow(store: Store, id: string): TaskRow {
  const row = getTaskRow(store, id);
  if (!row) throw new NotFound(`no such task: ${id}`);
  return row;
}

import type { TaskChanges } from '../core/task-fields.js';

export type { TaskChanges };

/**
 * Writes `changes` to a task as a compare-and-set on the status it was read in. Zero rows changed
 * means someone moved it first: refused, nothing written. Returns the task as it now is.
 */
export function updateTask(store: Store, before: TaskRow, changes: TaskChanges): TaskRow {
  const now = store.clock.now();
  const columns = Object.keys(changes);
  const assignments = columns.map((column) => `${column} = @${column}`).join(', ');
  const sql = `UPDATE tasks SET ${assignments}, updated_at = @updated_at WHERE id = @id AND status = @expected_status`;
  const result = store.stmt(sql).run({ ...changes, updated_at: now, id: before.id, expected_status: before.status });
  if (result.changes === 0) throw new Refused(`${before.id} changed while this was being done; try again`);
  return { ...before, ...changes, updated_at: now };
}
