import { archiveTask } from './lifecycle.js';
import type { Tx } from './tx.js';
import { nextCursor, WALK_START } from '../core/retention.js';
import type { ArchiveBatch, CollectBatch, CollectedTask, CollectResult, GcCursor, SpaceReclaimed } from '../port/types.js';

/**
 * Retention on a PostgreSQL board (`kanban gc`), as SQLite's (store/retention.ts): each call one
 * batch in one transaction, walking an index from a cursor (core/retention.ts). The tasks of a batch
 * are locked (SKIP LOCKED: one being changed right now waits for the next pass).
 */

async function lastMark(tx: Tx): Promise<GcCursor | null> {
  return (await tx.row<GcCursor>('SELECT archived_at AS at, task_id AS id FROM collected_tasks ORDER BY archived_at DESC, task_id ASC LIMIT 1')) ?? null;
}

/** The tasks of `status` by `column`, from just after the cursor $2, $3 (a range on the index, however far the walk has got). */
function walk(status: 'archived' | 'done', column: 'updated_at' | 'completed_at', fields: string, lock: boolean): string {
  return `SELECT ${fields}, ${column} AS at FROM tasks
    WHERE status = '${status}' AND ${column} < $1 AND ${column} >= $2 AND (${column} > $2 OR id < $3)
    ORDER BY ${column}, id DESC LIMIT $4${lock ? ' FOR NO KEY UPDATE SKIP LOCKED' : ''}`;
}

export async function collectHistory(tx: Tx, batch: CollectBatch): Promise<CollectResult> {
  const after = batch.after ?? (await lastMark(tx)) ?? WALK_START;
  const rows = await tx.rows<CollectedTask & GcCursor>(walk('archived', 'updated_at', 'id, workspace_kind, workspace_path', !batch.dryRun), [batch.before, after.at, after.id, batch.limit]);
  const result: CollectResult = { tasks: [], events: 0, comments: 0, runs: 0, shippedLogs: 0, next: null };
  const ids = rows.map((row) => row.id);
  if (ids.length > 0) {
    const take = async (table: string) =>
      batch.dryRun
        ? Number(await tx.value<number>(`SELECT count(*) FROM ${table} WHERE task_id = ANY($1::text[])`, [ids]))
        : tx.run(`DELETE FROM ${table} WHERE task_id = ANY($1::text[])`, [ids]);
    // What names a run goes first: the output kept in the board, events, comments.
    result.shippedLogs = await take('run_logs');
    result.events = await take('task_events');
    result.comments = await take('task_comments');
    result.runs = await take('task_runs');
    if (!batch.dryRun) {
      await tx.run(
        `INSERT INTO collected_tasks (task_id, archived_at, collected_at)
         SELECT id, at, $3 FROM unnest($1::text[], $2::bigint[]) AS t (id, at)
         ON CONFLICT (task_id) DO UPDATE SET archived_at = EXCLUDED.archived_at, collected_at = EXCLUDED.collected_at`,
        [ids, rows.map((row) => row.at), tx.now],
      );
    }
  }
  result.tasks = rows.map((row) => ({ id: row.id, workspace_kind: row.workspace_kind, workspace_path: row.workspace_path }));
  result.next = nextCursor(rows, batch.limit);
  return result;
}

/** Those of `ids` whose history a pass removed, archived since, as SQLite's (store/retention.ts). */
export async function collectedTasks(tx: Tx, ids: readonly string[]): Promise<CollectedTask[]> {
  return tx.rows<CollectedTask>(
    `SELECT t.id, t.workspace_kind, t.workspace_path FROM tasks t JOIN collected_tasks c ON c.task_id = t.id
     WHERE t.id = ANY($1::text[]) AND t.status = 'archived' AND t.updated_at = c.archived_at`,
    [ids],
  );
}

export async function archiveDoneTasks(tx: Tx, batch: ArchiveBatch): Promise<{ ids: string[]; next: GcCursor | null }> {
  const after = batch.after ?? WALK_START;
  const rows = await tx.rows<GcCursor>(walk('done', 'completed_at', 'id', false), [batch.before, after.at, after.id, batch.limit]);
  if (!batch.dryRun) for (const row of rows) await archiveTask(tx, row.id, 'gc');
  return { ids: rows.map((row) => row.id), next: nextCursor(rows, batch.limit) };
}

/** PostgreSQL reuses the space of removed rows (autovacuum); giving it back to the file system is the server's business. */
export async function reclaimSpace(): Promise<SpaceReclaimed> {
  return { incremental: false, freedBytes: 0, freeBytes: 0 };
}
