import type { Store } from './db.js';
import { FINISHED_SQL } from '../core/sql.js';
import type { RateLimitFacts, RunGroup, SlowTask, StatsFacts } from '../port/types.js';

/**
 * Tasks finished in the window. A finished task's `updated_at` is at or after its `completed_at`,
 * so the range on `tasks_status_updated` (status, updated_at) finds them without a scan.
 */
const COMPLETIONS = `SELECT completed_at FROM tasks
  WHERE status IN ${FINISHED_SQL} AND updated_at >= @since AND completed_at >= @since`;

/** In the order of `task_runs_profile_outcome`: no sort, no table row read. */
const RUN_GROUPS = `SELECT profile, outcome, count(*) AS runs, count(ended_at) AS ended,
    coalesce(sum(max(ended_at - started_at, 0)), 0) AS ended_ms
  FROM task_runs GROUP BY profile, outcome`;

/**
 * One row per cooldown, read from `task_events_rate_limited` alone (it holds `cooldown_until`), with
 * the task's first run started since (`task_runs_task_time`), then summed. Materialized, so that the
 * next run is looked up once per cooldown. See RateLimitFacts for the definition.
 */
const RATE_LIMITS = `WITH cooldown AS MATERIALIZED (
    SELECT e.created_at AS at, json_extract(e.payload, '$.cooldown_until') AS until,
      (SELECT min(n.started_at) FROM task_runs n WHERE n.task_id = e.task_id AND n.started_at >= e.created_at) AS next_run_at
    FROM task_events e
    WHERE e.kind = 'rate_limited' AND typeof(json_extract(e.payload, '$.cooldown_until')) IN ('integer', 'real')
  )
  SELECT count(*) AS cooldowns,
    coalesce(sum(max(ends - at, 0)), 0) AS total_ms,
    coalesce(sum(max(ends - max(at, @since), 0)), 0) AS since_ms,
    coalesce(sum(at <= @now AND until > @now AND next_run_at IS NULL), 0) AS waiting
  FROM (SELECT at, until, next_run_at, min(until, coalesce(next_run_at, until), @now) AS ends FROM cooldown)`;

/** Summed per task in the order of `task_runs_task_time`; only the top rows meet `tasks`. */
const SLOWEST = `SELECT t.id, t.title, s.run_ms, s.runs FROM (
    SELECT task_id, sum(max(coalesce(ended_at, @now) - started_at, 0)) AS run_ms, count(*) AS runs
    FROM task_runs GROUP BY task_id ORDER BY run_ms DESC, task_id LIMIT @limit
  ) s JOIN tasks t ON t.id = s.task_id
  ORDER BY s.run_ms DESC, t.id`;

export function readStatsFacts(store: Store, window: { now: number; since: number; slowest: number }): StatsFacts {
  const { now, since } = window;
  return store.readTxn(() => ({
    completions: store.stmt(COMPLETIONS).pluck().all({ since }) as number[],
    runs: store.stmt(RUN_GROUPS).all() as RunGroup[],
    rateLimits: store.stmt(RATE_LIMITS).get({ now, since }) as RateLimitFacts,
    slowest: store.stmt(SLOWEST).all({ now, limit: window.slowest }) as SlowTask[],
  }));
}
