import { archiveTask } from './lifecycle.js';
import type { Tx } from './tx.js';
import type { ArchiveBatch, CollectBatch, CollectedTask, CollectResult, GcCursor, SpaceReclaimed } from '../port/types.js';

/**
 * Retention on a PostgreSQL board (`kanban gc`), as SQLite's (store/retention.ts): each call one
 * batch in one transaction, walking a partial index (v2) from a cursor. The tasks of a batch are
 * locked (SKIP LOCKED: one being changed right now waits for the next pass).
 */

async function lastMark(tx: Tx): Promise<GcCursor | null> {
  return (await tx.row<GcCursor>('SELECT archived_at AS at, task_id AS id FROM collected_tasks ORDER BY archived_at DESC, task_id DESC LIMIT 1')) ?? null;
}

export async function collectHistory(tx: Tx, batch: CollectBatch): Promise<CollectResult> {
  const after = batch.after === undefined || batch.after === null ? await lastMark(tx) : batch.after;
  const rows = await tx.rows<CollectedTask & { updated_at: number }>(
    `SELECT id, updated_at, workspace_kind, workspace_path FROM tasks
     WHERE status = 'archived' AND updated_at < $1 AND ($2::bigint IS NULL OR (updated_at, id) > ($2::bigint, $3::text))
     ORDER BY updated_at, id LIMIT $4${batch.dryRun ? '' : ' FOR NO KEY UPDATE SKIP LOCKED'}`,
    [batch.before, after?.at ?? null, after?.id ?? '', batch.limit],
  );
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
        [ids, rows.map((row) => row.updated_at), tx.now],
      );
    }
  }
  result.tasks = rows.map((row) => ({ id: row.id, workspace_kind: row.workspace_kind, workspace_path: row.workspace_path }));
  const last = rows.at(-1);
  result.next = rows.length === batch.limit && last ? { at: last.updated_at, id: last.id } : null;
  return result;
}

export async function archiveDoneTasks(tx: Tx, batch: ArchiveBatch): Promise<{ ids: string[]; next: GcCursor | null }> {
  const after = batch.after ?? null;
  const rows = await tx.rows<GcCursor>(
    `SELECT id, completed_at AS at FROM tasks
     WHERE status = 'done' AND completed_at < $1 AND ($2::bigint IS NULL OR (completed_at, id) > ($2::bigint, $3::text))
     ORDER BY completed_at, id LIMIT $4`,
    [batch.before, after?.at ?? null, after?.id ?? '', batch.limit],
  );
  if (!batch.dryRun) for (const row of rows) await archiveTask(tx, row.id, 'gc');
  const last = rows.at(-1);
  return { ids: rows.map((row) => row.id), next: rows.length === batch.limit && last ? { at: last.at, id: last.id } : null };
}

/** PostgreSQL reuses the space of removed rows (autovacuum); giving it back to the file system is the server's business. */
export async function reclaimSpace(): Promise<SpaceReclaimed> {
  return { incremental: false, freedBytes: 0, freeBytes: 0 };
}
