/**
 * The circuit breaker, decided once for every backend: what a counted failure does to a task.
 * Pure: the store applies the decision inside its own transaction.
 */

/** The board's limit (KANBAN_FAILURE_LIMIT or the config's), used when the task has no max_retries. */
export interface FailurePolicy {
  limit: number;
  /** Where the board's limit came from (env, config, default), for the `gave_up` event. */
  limitSource: string;
}

export interface FailureDecision {
  /** The task's consecutive failures after this one. */
  failures: number;
  limit: number;
  limitSource: string;
  /** At the limit: blocked (`gave_up`), with this reason; else back to ready (or todo). */
  gaveUp: boolean;
  reason: string | null;
}

/** A counted failure on a task that had `consecutiveFailures`: the task's max_retries, else the board's limit, decides. */
export function decideFailure(task: { consecutive_failures: number; max_retries: number | null }, outcome: string, policy: FailurePolicy): FailureDecision {
  const failures = task.consecutive_failures + 1;
  const limit = task.max_retries ?? policy.limit;
  const limitSource = task.max_retries !== null ? 'task' : policy.limitSource;
  const gaveUp = failures >= limit;
  const reason = gaveUp ? `gave up after ${failures} failure${failures === 1 ? '' : 's'} (last: ${outcome})` : null;
  return { failures, limit, limitSource, gaveUp, reason };
}
