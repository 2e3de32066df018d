import type { Store } from './db.js';
import { FINISHED_SQL } from './sql.js';

/**
 * The facts `kanban stats` (and the board's statistics) are computed from, read in one snapshot.
 * Whatever grows with the board's history (every run, every cooldown) is summed here, in SQL, on
 * covering indexes (schema v7), so the cost stays a walk of small indexes and a handful of rows
 * reach JavaScript; src/stats.ts does the rest.
 */
export interface StatsFacts {
  /** `completed_at` of every task finished (done, or archived since) at or after `since`. */
  completions: number[];
  /** Every run, counted per profile and outcome (`outcome` null: still running). */
  runs: RunGroup[];
  rateLimits: RateLimitFacts;
  /** The tasks with the most run time (a running run counts up to `now`), most first. */
  slowest: SlowTask[];
}

export interface RunGroup {
  profile: string | null;
  outcome: string | null;
  runs: number;
  /** Runs that have ended, and their summed length (ms; a run whose end precedes its start counts 0). */
  ended: number;
  ended_ms: number;
}

/**
 * Time tasks waited because of a rate limit. A run that ends rate limited sets a cooldown (its
 * `rate_limited` event: from the event's time until the event's `cooldown_until`); the task waited
 * from the event until the earliest of the cooldown's end, the start of the task's next run, and
 * `now`. Waits add up per task: two tasks held for the same ten minutes count twenty.
 */
export interface RateLimitFacts {
  /** Cooldowns ever set. */
  cooldowns: number;
  /** The waits, summed: all of them, and only their parts at or after `since`. */
  total_ms: number;
  since_ms: number;
  /** Cooldowns still holding their task back at `now` (not over, no run since). */
  waiting: number;
}

export interface SlowTask {
  id: string;
  title: string;
  run_ms: number;
  runs: number;
}

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
