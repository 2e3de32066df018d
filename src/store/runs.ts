import type { Store } from './db.js';
import type { RunOutcome, RunRow } from '../core/types.js';

export function runsForTask(store: Store, taskId: string): RunRow[] {
  return store.stmt('SELECT * FROM task_runs WHERE task_id = ? ORDER BY id').all(taskId) as RunRow[];
}

export function runById(store: Store, taskId: string, runId: number): RunRow | undefined {
  return store.stmt('SELECT * FROM task_runs WHERE id = ? AND task_id = ?').get(runId, taskId) as RunRow | undefined;
}

export interface RunEnding {
  outcome: RunOutcome;
  summary?: string | null;
  error?: string | null;
  exit_code?: number | null;
}

/** Closes a task's open run, if it has one. Returns whether a run was closed. */
export function endOpenRun(store: Store, taskId: string, runId: number | null, ending: RunEnding): boolean {
  if (runId === null) return false;
  const result = store
    .stmt(
      `UPDATE task_runs SET status = 'ended', ended_at = @ended_at, outcome = @outcome, summary = @summary,
         error = @error, exit_code = @exit_code
       WHERE id = @id AND task_id = @task_id AND status = 'running'`,
    )
    .run({
      id: runId,
      task_id: taskId,
      ended_at: store.clock.now(),
      outcome: ending.outcome,
      summary: ending.summary ?? null,
      error: ending.error ?? null,
      exit_code: ending.exit_code ?? null,
    });
  return result.changes > 0;
}
