import type { RunRow } from '../core/types.js';
import type { Tx } from './tx.js';

export async function runsForTask(tx: Tx, taskId: string): Promise<RunRow[]> {
  return tx.rows<RunRow>('SELECT * FROM task_runs WHERE task_id = $1 ORDER BY id', [taskId]);
}

export async function runById(tx: Tx, taskId: string, runId: number): Promise<RunRow | undefined> {
  return tx.row<RunRow>('SELECT * FROM task_runs WHERE id = $1 AND task_id = $2', [runId, taskId]);
}
