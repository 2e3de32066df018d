/** The SQL forms of core's sets, the same in every backend's dialect. */
import { FINISHED_STATUSES, type TaskRow } from './types.js';

/** FINISHED_STATUSES as an SQL list, for `status IN …` and `NOT IN …`: the finished set written once. */
export const FINISHED_SQL = `(${FINISHED_STATUSES.map((s) => `'${s}'`).join(', ')})`;

/**
 * The kind of task `t`'s latest block, `gave_up` (the breaker's: the dispatcher may recover it) or
 * `blocked` (sticky: only a person unblocks it). Every way into blocked writes one of the two.
 */
export const LAST_BLOCK_KIND_SQL = "(SELECT e.kind FROM task_events e WHERE e.task_id = t.id AND e.kind IN ('blocked', 'gave_up') ORDER BY e.id DESC LIMIT 1)";

/** Every column of `tasks`, in table order: the one list that SQL building task JSON reads. */
export const TASK_COLUMNS = [
  'id', 'title', 'body', 'status', 'assignee', 'priority', 'claim_lock', 'claim_expires', 'worker_pid',
  'current_run_id', 'last_heartbeat_at', 'consecutive_failures', 'max_retries', 'max_runtime_seconds',
  'scheduled_until', 'status_reason', 'summary', 'workspace_kind', 'workspace_path', 'idempotency_key',
  'created_at', 'updated_at', 'started_at', 'completed_at',
] as const satisfies ReadonlyArray<keyof TaskRow>;
// Compile-time guard: a TaskRow field missing from TASK_COLUMNS makes this `true` fail to type-check.
const everyColumnListed: Exclude<keyof TaskRow, (typeof TASK_COLUMNS)[number]> extends never ? true : never = true;
void everyColumnListed;
