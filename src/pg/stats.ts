import { FINISHED_SQL } from '../core/sql.js';
import type { RateLimitFacts, RunGroup, SlowTask, StatsFacts } from '../port/types.js';
import type { Tx } from './tx.js';

/**
 * The facts `kanban stats` is computed from (src/store/stats.ts on PostgreSQL), read in the one
 * snapshot of the read transaction. Sums of bigints are numeric in PostgreSQL, which the pool would
 * hand back as strings: each is cast back to bigint (a number). SQLite's two-argument max/min are
 * greatest/least (which skip NULLs where SQLite's give NULL: no argument here is ever NULL, or the
 * NULL ones count 0 either way).
 */

/** Tasks finished in the window, found on `tasks_status_updated` (a finished task's updated_at is at or after its completed_at). */
const COMPLETIONS = `SELECT completed_at FROM tasks
  WHERE status IN ${FINISHED_SQL} AND updated_at >= $1 AND completed_at >= $1
  ORDER BY status, updated_at DESC, id`;

/** In SQLite's order (its GROUP BY walks `task_runs_profile_outcome`): NULL first, then text as bytes. */
const RUN_GROUPS = `SELECT profile, outcome, count(*) AS runs, count(ended_at) AS ended,
    coalesce(sum(greatest(ended_at - started_at, 0)), 0)::bigint AS ended_ms
  FROM task_runs GROUP BY profile, outcome
  ORDER BY profile COLLATE "C" NULLS FIRST, outcome COLLATE "C" NULLS FIRST`;

/**
 * One row per cooldown (the partial index `task_events_rate_limited` holds the `rate_limited` events),
 * with the task's first run started since (`task_runs_task_time`), then summed. A cooldown_until that
 * is not a JSON number is not one (SQLite: its typeof is not integer or real). See RateLimitFacts.
 */
const RATE_LIMITS = `WITH cooldown AS MATERIALIZED (
    SELECT e.created_at AS at, (e.payload ->> 'cooldown_until')::numeric AS until,
      (SELECT min(n.started_at) FROM task_runs n WHERE n.task_id = e.task_id AND n.started_at >= e.created_at) AS next_run_at
    FROM task_events e
    WHERE e.kind = 'rate_limited' AND jsonb_typeof(e.payload -> 'cooldown_until') = 'number'
  )
  SELECT count(*) AS cooldowns,
    coalesce(sum(greatest(ends - at, 0)), 0)::float8 AS total_ms,
    coalesce(sum(greatest(ends - greatest(at, $2::bigint), 0)), 0)::float8 AS since_ms,
    count(*) FILTER (WHERE at <= $1::bigint AND until > $1::bigint AND next_run_at IS NULL) AS waiting
  FROM (SELECT at, until, next_run_at, least(until, coalesce(next_run_at, until), $1::bigint) AS ends FROM cooldown) c`;

/** Summed per task on `task_runs_task_time`; only the top rows meet `tasks`. */
const SLOWEST = `SELECT t.id, t.title, s.run_ms, s.runs FROM (
    SELECT task_id, sum(greatest(coalesce(ended_at, $1) - started_at, 0))::bigint AS run_ms, count(*) AS runs
    FROM task_runs GROUP BY task_id ORDER BY run_ms DESC, task_id LIMIT $2
  ) s JOIN tasks t ON t.id = s.task_id
  ORDER BY s.run_ms DESC, t.id`;

export async function readStatsFacts(tx: Tx, window: { now: number; since: number; slowest: number }): Promise<StatsFacts> {
  const { now, since } = window;
  return {
    completions: await tx.column<number>(COMPLETIONS, [since]),
    runs: await tx.rows<RunGroup>(RUN_GROUPS),
    rateLimits: (await tx.row<RateLimitFacts>(RATE_LIMITS, [now, since]))!,
    slowest: await tx.rows<SlowTask>(SLOWEST, [now, window.slowest < 0 ? null : window.slowest]),
  };
}
