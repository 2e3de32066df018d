import { Refused } from '../errors.js';
import type { RunIdentity } from '../core/run.js';
import { SHIPPED_LOG_MAX_BYTES, type ShippedLog } from '../port/board.js';
import type { Tx } from './tx.js';

/**
 * Appends whole lines of a run's log (by its identity: the run and its claim lock, whether or not it
 * still runs: its last lines come after its exit is recorded), then drops the run's oldest pieces
 * past SHIPPED_LOG_MAX_BYTES.
 */
export async function shipLog(tx: Tx, identity: RunIdentity, text: string): Promise<void> {
  const inserted = await tx.run(
    `INSERT INTO run_logs (task_id, run_id, text, bytes, created_at)
     SELECT $1, $2, $4, $5, $6 FROM task_runs WHERE id = $2 AND task_id = $1 AND claim_lock = $3`,
    [identity.taskId, identity.runId, identity.claimLock, text, Buffer.byteLength(text), tx.now],
  );
  if (inserted === 0) throw new Refused(`run ${identity.runId} of ${identity.taskId} is not on this board`);
  await tx.run(
    `DELETE FROM run_logs WHERE run_id = $1 AND id < (
       SELECT min(id) FROM (SELECT id, sum(bytes) OVER (ORDER BY id DESC) AS kept FROM run_logs WHERE run_id = $1) newest WHERE kept <= $2)`,
    [identity.runId, SHIPPED_LOG_MAX_BYTES],
  );
}

/** A task's pieces after `afterId`, oldest first, about `maxBytes` of text (at least one piece). */
export async function logsSince(tx: Tx, taskId: string, afterId: number, maxBytes: number): Promise<ShippedLog[]> {
  return tx.rows<ShippedLog>(
    `SELECT id, run_id, text FROM (SELECT id, run_id, text, sum(bytes) OVER (ORDER BY id) - bytes AS before FROM run_logs WHERE task_id = $1 AND id > $2) pieces
     WHERE before < $3 ORDER BY id`,
    [taskId, afterId, maxBytes],
  );
}

/** A task's latest pieces, about `maxBytes` of text (at least one piece), oldest first. */
export async function logsTail(tx: Tx, taskId: string, maxBytes: number): Promise<ShippedLog[]> {
  return tx.rows<ShippedLog>(
    `SELECT id, run_id, text FROM (SELECT id, run_id, text, sum(bytes) OVER (ORDER BY id DESC) - bytes AS after FROM run_logs WHERE task_id = $1) pieces
     WHERE after < $2 ORDER BY id`,
    [taskId, maxBytes],
  );
}
