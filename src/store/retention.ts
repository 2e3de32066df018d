import type { Store } from './db.js';
import { archiveTask } from './lifecycle.js';
import { nextCursor, WALK_START } from '../core/retention.js';
import type { ArchiveBatch, CollectBatch, CollectedTask, CollectResult, GcCursor, SpaceReclaimed } from '../port/types.js';

/**
 * Retention on a SQLite board (`kanban gc`): each call is one batch in one transaction, walking an
 * index from a cursor (core/retention.ts), so a batch costs what it takes, whatever the board's history.
 */

/** Where the last pass got to: the last archived task whose history went, in the walk's order. */
function lastMark(store: Store): GcCursor | null {
  const row = store.stmt('SELECT archived_at AS at, task_id AS id FROM collected_tasks ORDER BY archived_at DESC, task_id ASC LIMIT 1').get() as GcCursor | undefined;
  return row ?? null;
}

/** The tasks of `status` by `column`, from just after the cursor @at, @id (a range on the index, however far the walk has got). */
function walk(status: 'archived' | 'done', column: 'updated_at' | 'completed_at', index: string, fields: string): string {
  return `SELECT ${fields}, ${column} AS at FROM tasks INDEXED BY ${index}
    WHERE status = '${status}' AND ${column} < @before AND ${column} >= @at AND (${column} > @at OR id < @id)
    ORDER BY ${column}, id DESC LIMIT @limit`;
}

/** The events, comments and runs of a batch of archived tasks, removed (counted only, on a dry run). */
export function collectHistory(store: Store, batch: CollectBatch): CollectResult {
  const after = batch.after ?? lastMark(store) ?? WALK_START;
  const rows = store
    .stmt(walk('archived', 'updated_at', 'tasks_status_updated', 'id, workspace_kind, workspace_path'))
    .all({ before: batch.before, at: after.at, id: after.id, limit: batch.limit }) as Array<CollectedTask & GcCursor>;
  const result: CollectResult = { tasks: [], events: 0, comments: 0, runs: 0, shippedLogs: 0, next: null };
  const now = store.clock.now();
  for (const row of rows) {
    const count = (table: string) => store.stmt(`SELECT count(*) FROM ${table} WHERE task_id = ?`).pluck().get(row.id) as number;
    const remove = (table: string) => store.stmt(`DELETE FROM ${table} WHERE task_id = ?`).run(row.id).changes;
    // Events and comments name runs: they go first.
    const take = batch.dryRun ? count : remove;
    const events = take('task_events');
    const comments = take('task_comments');
    const runs = take('task_runs');
    if (!batch.dryRun) {
      store
        .stmt(
          `INSERT INTO collected_tasks (task_id, archived_at, collected_at) VALUES (@id, @at, @now)
           ON CONFLICT (task_id) DO UPDATE SET archived_at = @at, collected_at = @now`,
        )
        .run({ id: row.id, at: row.at, now });
    }
    result.events += events;
    result.comments += comments;
    result.runs += runs;
    result.tasks.push({ id: row.id, workspace_kind: row.workspace_kind, workspace_path: row.workspace_path });
  }
  result.next = nextCursor(rows, batch.limit);
  return result;
}

/** Those of `ids` whose history a pass removed, archived since (port: Retention.collectedTasks). */
export function collectedTasks(store: Store, ids: readonly string[]): CollectedTask[] {
  return store
    .stmt(
      // CROSS JOIN keeps this order (the ids, then each looked up): left to itself the planner walked
      // every archived task by status.
      `SELECT t.id, t.workspace_kind, t.workspace_path FROM json_each(@ids) j
         CROSS JOIN tasks t ON t.id = j.value CROSS JOIN collected_tasks c ON c.task_id = t.id
       WHERE t.status = 'archived' AND t.updated_at = c.archived_at`,
    )
    .all({ ids: JSON.stringify(ids) }) as CollectedTask[];
}

/** A batch of done tasks completed before `before`, archived (`archived`, source gc). */
export function archiveDoneTasks(store: Store, batch: ArchiveBatch): { ids: string[]; next: GcCursor | null } {
  const after = batch.after ?? WALK_START;
  const rows = store.stmt(walk('done', 'completed_at', 'tasks_done', 'id')).all({ before: batch.before, at: after.at, id: after.id, limit: batch.limit }) as GcCursor[];
  if (!batch.dryRun) for (const row of rows) archiveTask(store, row.id, 'gc');
  return { ids: rows.map((row) => row.id), next: nextCursor(rows, batch.limit) };
}

/**
 * Free pages given back to the file system, at most `maxBytes` of them, on a board made with
 * incremental vacuum (every board `kanban` creates); an older board reuses its free pages instead.
 */
export function reclaimFreePages(store: Store, maxBytes: number): SpaceReclaimed {
  const pageSize = Number(store.db.pragma('page_size', { simple: true }));
  const free = () => Number(store.db.pragma('freelist_count', { simple: true }));
  const incremental = Number(store.db.pragma('auto_vacuum', { simple: true })) === 2;
  const before = free();
  if (incremental && before > 0) store.db.pragma(`incremental_vacuum(${Math.max(1, Math.floor(maxBytes / pageSize))})`);
  const after = free();
  return { incremental, freedBytes: (before - after) * pageSize, freeBytes: after * pageSize };
}
