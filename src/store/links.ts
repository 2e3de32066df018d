import { Refused } from '../errors.js';
import type { Store } from './db.js';
import { appendEvent } from './events.js';
import { getTaskRow, requireTaskRow, updateTask } from './rows.js';
import { isFinished, type TaskRow } from '../core/types.js';
import { FINISHED_SQL } from '../core/sql.js';
import type { UnfinishedParent } from '../port/types.js';

/** Parents that still hold the task back (anything but done or archived). */
export function unfinishedParents(store: Store, childId: string): UnfinishedParent[] {
  return store
    .stmt(
      `SELECT p.id, p.status FROM task_links l JOIN tasks p ON p.id = l.parent_id
       WHERE l.child_id = ? AND p.status NOT IN ${FINISHED_SQL} ORDER BY p.id`,
    )
    .all(childId) as UnfinishedParent[];
}

export function parentIds(store: Store, childId: string): string[] {
  return store.stmt('SELECT parent_id FROM task_links WHERE child_id = ? ORDER BY parent_id').pluck().all(childId) as string[];
}

export function childIds(store: Store, parentId: string): string[] {
  return store.stmt('SELECT child_id FROM task_links WHERE parent_id = ? ORDER BY child_id').pluck().all(parentId) as string[];
}

/**
 * The links of the tasks `ids`, as parent and child lists per task (one statement, each half through
 * a link index, however many tasks: the cost follows the tasks listed, not every link the board has).
 */
export function linksOf(store: Store, ids: readonly string[]): { parents: Map<string, string[]>; children: Map<string, string[]> } {
  const parents = new Map<string, string[]>();
  const children = new Map<string, string[]>();
  const listed = JSON.stringify(ids);
  // A link between two listed tasks is found by both halves: UNION keeps it once.
  const rows = store
    .stmt(
      `SELECT parent_id, child_id FROM task_links WHERE child_id IN (SELECT value FROM json_each(?))
       UNION
       SELECT parent_id, child_id FROM task_links WHERE parent_id IN (SELECT value FROM json_each(?))
       ORDER BY parent_id, child_id`,
    )
    .raw()
    .all(listed, listed) as Array<[string, string]>;
  for (const [parent, child] of rows) {
    (parents.get(child) ?? parents.set(child, []).get(child)!).push(parent);
    (children.get(parent) ?? children.set(parent, []).get(parent)!).push(child);
  }
  return { parents, children };
}

/** True when `to` can be reached from `from` by following parent → child links. */
function leadsTo(store: Store, from: string, to: string): boolean {
  const hit = store
    .stmt(
      `WITH RECURSIVE descendants(id) AS (
         SELECT child_id FROM task_links WHERE parent_id = ?
         UNION SELECT l.child_id FROM task_links l JOIN descendants d ON l.parent_id = d.id)
       SELECT 1 FROM descendants WHERE id = ? LIMIT 1`,
    )
    .get(from, to);
  return hit !== undefined;
}

export function insertLink(store: Store, parentId: string, childId: string): void {
  store.stmt('INSERT INTO task_links (parent_id, child_id, created_at) VALUES (?, ?, ?)').run(parentId, childId, store.clock.now());
}

/**
 * Promotes a todo task to ready when none of its parents is unfinished (event `promoted`).
 * Returns whether it did.
 */
export function promoteIfUnblocked(store: Store, child: TaskRow, source: Record<string, unknown>): boolean {
  if (child.status !== 'todo' || unfinishedParents(store, child.id).length > 0) return false;
  updateTask(store, child, { status: 'ready' });
  appendEvent(store, child.id, 'promoted', { from: 'todo', to: 'ready', ...source });
  return true;
}

/** After a parent finishes (done or archived): its todo children whose parents are all finished go ready. */
export function promoteChildrenOf(store: Store, parentId: string): string[] {
  const promoted: string[] = [];
  for (const childId of childIds(store, parentId)) {
    const child = getTaskRow(store, childId);
    if (child && promoteIfUnblocked(store, child, { source: 'parents_done', parent: parentId })) promoted.push(childId);
  }
  return promoted;
}

/**
 * Makes `parentId` a parent of `childId`. Self-links and cycles are refused. Linking an unfinished
 * parent sends a ready child back to todo. Linking twice changes nothing.
 */
export function linkTasks(store: Store, parentId: string, childId: string): TaskRow {
  return store.writeTxn(() => {
    const parent = requireTaskRow(store, parentId);
    let child = requireTaskRow(store, childId);
    if (parentId === childId) throw new Refused(`cannot link ${parentId} to itself`);
    if (parentIds(store, childId).includes(parentId)) return child;
    if (leadsTo(store, childId, parentId)) {
      throw new Refused(`cannot link ${parentId} → ${childId}: ${childId} already leads to ${parentId}, which would make a cycle`);
    }
    insertLink(store, parentId, childId);
    const parentUnfinished = !isFinished(parent.status);
    const demote = parentUnfinished && child.status === 'ready';
    if (demote) child = updateTask(store, child, { status: 'todo' });
    appendEvent(store, childId, 'linked', { parent: parentId, ...(demote ? { from: 'ready', to: 'todo' } : {}) });
    appendEvent(store, parentId, 'linked', { child: childId });
    return child;
  });
}

/** Removes a link; a todo child with no unfinished parent left goes ready. */
export function unlinkTasks(store: Store, parentId: string, childId: string): TaskRow {
  return store.writeTxn(() => {
    requireTaskRow(store, parentId);
    const child = requireTaskRow(store, childId);
    const removed = store.stmt('DELETE FROM task_links WHERE parent_id = ? AND child_id = ?').run(parentId, childId);
    if (removed.changes === 0) throw new Refused(`${parentId} is not a parent of ${childId}`);
    appendEvent(store, childId, 'unlinked', { parent: parentId });
    appendEvent(store, parentId, 'unlinked', { child: childId });
    promoteIfUnblocked(store, child, { source: 'unlinked', parent: parentId });
    return requireTaskRow(store, childId);
  });
}
