import { Refused } from '../errors.js';
import { isFinished, type TaskRow } from '../core/types.js';
import { appendEvent, childIds, getTaskRow, insertLink, parentIds, requireTaskRow, unfinishedParents, updateTask } from './rows.js';
import type { Tx } from './tx.js';

/**
 * Links between tasks, as SQLite's (store/links.ts). A link's writes run at SERIALIZABLE: two links
 * at once that would close a cycle between them cannot both commit (the cycle check reads what the
 * other inserts), so one runs again and is refused.
 */

/**
 * Locks both tasks' rows in id order, so that two links of one pair made at once, one each way, wait
 * for each other instead of deadlocking (which PostgreSQL finds only after deadlock_timeout, 1 s).
 */
async function lockPair(tx: Tx, a: string, b: string): Promise<void> {
  await tx.run(`SELECT 1 FROM tasks WHERE id = ANY($1::text[]) ORDER BY id COLLATE "C"${tx.forUpdate}`, [[a, b]]);
}

/** True when `to` can be reached from `from` by following parent → child links. */
async function leadsTo(tx: Tx, from: string, to: string): Promise<boolean> {
  const hit = await tx.value<number>(
    `WITH RECURSIVE descendants(id) AS (
       SELECT child_id FROM task_links WHERE parent_id = $1
       UNION SELECT l.child_id FROM task_links l JOIN descendants d ON l.parent_id = d.id)
     SELECT 1 FROM descendants WHERE id = $2 LIMIT 1`,
    [from, to],
  );
  return hit !== undefined;
}

/**
 * Makes `parentId` a parent of `childId`. Self-links and cycles are refused. Linking an unfinished
 * parent sends a ready child back to todo. Linking twice changes nothing.
 */
export async function linkTasks(tx: Tx, parentId: string, childId: string): Promise<TaskRow> {
  await lockPair(tx, parentId, childId);
  const parent = await requireTaskRow(tx, parentId);
  let child = await requireTaskRow(tx, childId);
  if (parentId === childId) throw new Refused(`cannot link ${parentId} to itself`);
  if ((await parentIds(tx, childId)).includes(parentId)) return child;
  if (await leadsTo(tx, childId, parentId)) {
    throw new Refused(`cannot link ${parentId} → ${childId}: ${childId} already leads to ${parentId}, which would make a cycle`);
  }
  await insertLink(tx, parentId, childId);
  const parentUnfinished = !isFinished(parent.status);
  const demote = parentUnfinished && child.status === 'ready';
  if (demote) child = await updateTask(tx, child, { status: 'todo' });
  await appendEvent(tx, childId, 'linked', { parent: parentId, ...(demote ? { from: 'ready', to: 'todo' } : {}) });
  await appendEvent(tx, parentId, 'linked', { child: childId });
  return child;
}

/** Removes a link; a todo child with no unfinished parent left goes ready. */
export async function unlinkTasks(tx: Tx, parentId: string, childId: string): Promise<TaskRow> {
  await lockPair(tx, parentId, childId);
  await requireTaskRow(tx, parentId);
  const child = await requireTaskRow(tx, childId);
  const removed = await tx.run('DELETE FROM task_links WHERE parent_id = $1 AND child_id = $2', [parentId, childId]);
  if (removed === 0) throw new Refused(`${parentId} is not a parent of ${childId}`);
  await appendEvent(tx, childId, 'unlinked', { parent: parentId });
  await appendEvent(tx, parentId, 'unlinked', { child: childId });
  await promoteIfUnblocked(tx, child, { source: 'unlinked', parent: parentId });
  return requireTaskRow(tx, childId);
}

/** Promotes a todo task to ready when none of its parents is unfinished (event `promoted`); whether it did. */
export async function promoteIfUnblocked(tx: Tx, child: TaskRow, source: Record<string, unknown>): Promise<boolean> {
  if (child.status !== 'todo' || (await unfinishedParents(tx, child.id)).length > 0) return false;
  await updateTask(tx, child, { status: 'ready' });
  await appendEvent(tx, child.id, 'promoted', { from: 'todo', to: 'ready', ...source });
  return true;
}

/** After a parent finishes (done or archived): its todo children whose parents are all finished go ready; their ids. */
export async function promoteChildrenOf(tx: Tx, parentId: string): Promise<string[]> {
  const promoted: string[] = [];
  for (const childId of await childIds(tx, parentId)) {
    const child = await getTaskRow(tx, childId);
    if (child && (await promoteIfUnblocked(tx, child, { source: 'parents_done', parent: parentId }))) promoted.push(childId);
  }
  return promoted;
}
