import { describe, expect, it } from 'vitest';
import { archiveTask, completeTask, reopenTask } from '../../../src/store/lifecycle.js';
import { readStatsFacts } from '../../../src/store/stats.js';
import { computeStats, statsWindow } from '../../../src/stats.js';
import { manualClock, testStore } from '../../helpers/board.js';
import { run, taskAt } from '../../helpers/history.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const NOON = Date.UTC(2026, 10, 21, 12, 0, 0);

function board() {
  const clock = manualClock(NOON - 48 * HOUR);
  return { clock, store: testStore(clock) };
}

const factsAt = (store: ReturnType<typeof board>['store'], now: number) => readStatsFacts(store, statsWindow(now));

describe('the facts stats are computed from', () => {
  it('an empty board: nothing, and zeros', () => {
    const { store } = board();
    expect(factsAt(store, NOON)).toEqual({ completions: [], runs: [], rateLimits: { cooldowns: 0, total_ms: 0, since_ms: 0, waiting: 0 }, slowest: [] });
  });

  it('a run across an hour boundary is one completion, at its end, and all its time counts', () => {
    const { store, clock } = board();
    const id = taskAt(store, clock, NOON - 2 * HOUR, 'across the hour');
    run(store, clock, id, 'coder', NOON - 70 * MINUTE, NOON - 50 * MINUTE, 'completed');
    const facts = factsAt(store, NOON);
    expect(facts.completions).toEqual([NOON - 50 * MINUTE]);
    expect(facts.runs).toEqual([{ profile: 'coder', outcome: 'completed', runs: 1, ended: 1, ended_ms: 20 * MINUTE }]);
    expect(facts.slowest).toEqual([{ id, title: 'across the hour', run_ms: 20 * MINUTE, runs: 1 }]);
    expect(computeStats(facts, NOON).completions_per_hour.slice(-2)).toEqual([0, 1]);
  });

  it('completions: finished in the window, archived since included, older or reopened not', () => {
    const { store, clock } = board();
    const old = taskAt(store, clock, NOON - 30 * HOUR);
    completeTask(store, old);
    const archived = taskAt(store, clock, NOON - 3 * HOUR);
    completeTask(store, archived);
    clock.set(NOON - HOUR);
    archiveTask(store, archived);
    const reopened = taskAt(store, clock, NOON - 2 * HOUR);
    completeTask(store, reopened);
    reopenTask(store, reopened);
    expect(factsAt(store, NOON).completions).toEqual([NOON - 3 * HOUR]);
  });

  it('runs older than 24 h count in the outcomes per profile, open runs without an outcome', () => {
    const { store, clock } = board();
    const a = taskAt(store, clock, NOON - 40 * HOUR);
    run(store, clock, a, 'coder', NOON - 40 * HOUR, NOON - 39 * HOUR, 'crashed');
    run(store, clock, a, 'coder', NOON - 30 * HOUR, NOON - 29 * HOUR, 'completed');
    const b = taskAt(store, clock, NOON - 2 * HOUR);
    run(store, clock, b, null, NOON - 10 * MINUTE, NOON, 'open');
    expect(factsAt(store, NOON).runs).toEqual([
      { profile: null, outcome: null, runs: 1, ended: 0, ended_ms: 0 },
      { profile: 'coder', outcome: 'completed', runs: 1, ended: 1, ended_ms: HOUR },
      { profile: 'coder', outcome: 'crashed', runs: 1, ended: 1, ended_ms: HOUR },
    ]);
    expect(factsAt(store, NOON).completions).toEqual([]);
  });

  it('slowest: total run time per task, a running run up to now, most first, five at most', () => {
    const { store, clock } = board();
    const ids = Array.from({ length: 7 }, (_, i) => taskAt(store, clock, NOON - 20 * HOUR, `task ${i}`));
    ids.forEach((id, i) => run(store, clock, id, 'coder', NOON - 10 * HOUR, NOON - 10 * HOUR + (i + 1) * MINUTE, 'crashed'));
    run(store, clock, ids[0]!, 'coder', NOON - 3 * HOUR, NOON, 'open');
    const slowest = factsAt(store, NOON).slowest;
    expect(slowest.map((t) => [t.title, t.run_ms, t.runs])).toEqual([
      ['task 0', 3 * HOUR + MINUTE, 2],
      ['task 6', 7 * MINUTE, 1],
      ['task 5', 6 * MINUTE, 1],
      ['task 4', 5 * MINUTE, 1],
      ['task 3', 4 * MINUTE, 1],
    ]);
  });
});

describe('time lost to rate limits', () => {
  it('a cooldown still holding its task counts up to now, and the task is waiting', () => {
    const { store, clock } = board();
    const id = taskAt(store, clock, NOON - HOUR);
    run(store, clock, id, 'coder', NOON - 20 * MINUTE, NOON - 4 * MINUTE, { rateLimitedFor: 10 * MINUTE });
    expect(factsAt(store, NOON).rateLimits).toEqual({ cooldowns: 1, total_ms: 4 * MINUTE, since_ms: 4 * MINUTE, waiting: 1 });
  });

  it('ends at the cooldown end, or at the next run when it started sooner', () => {
    const { store, clock } = board();
    const waited = taskAt(store, clock, NOON - 5 * HOUR);
    run(store, clock, waited, 'coder', NOON - 4 * HOUR, NOON - 3 * HOUR, { rateLimitedFor: 10 * MINUTE });
    run(store, clock, waited, 'coder', NOON - 2 * HOUR, NOON - HOUR, 'completed'); // long after the cooldown: 10 min lost
    const retried = taskAt(store, clock, NOON - 5 * HOUR);
    run(store, clock, retried, 'coder', NOON - 4 * HOUR, NOON - 3 * HOUR, { rateLimitedFor: HOUR });
    run(store, clock, retried, 'coder', NOON - 3 * HOUR + 5 * MINUTE, NOON - 2 * HOUR, 'completed'); // started within it: 5 min
    expect(factsAt(store, NOON).rateLimits).toEqual({ cooldowns: 2, total_ms: 15 * MINUTE, since_ms: 15 * MINUTE, waiting: 0 });
  });

  it('a wait across the start of the last 24 h counts in the total, only its part since in the last 24 h', () => {
    const { store, clock } = board();
    const id = taskAt(store, clock, NOON - 30 * HOUR);
    run(store, clock, id, 'coder', NOON - 26 * HOUR, NOON - 25 * HOUR, { rateLimitedFor: 2 * HOUR });
    const old = taskAt(store, clock, NOON - 40 * HOUR);
    run(store, clock, old, 'coder', NOON - 40 * HOUR, NOON - 39 * HOUR, { rateLimitedFor: HOUR });
    expect(factsAt(store, NOON).rateLimits).toEqual({ cooldowns: 2, total_ms: 3 * HOUR, since_ms: HOUR, waiting: 0 });
  });

  it('other runs and their events (crashes, completions) are not cooldowns', () => {
    const { store, clock } = board();
    const id = taskAt(store, clock, NOON - 3 * HOUR);
    run(store, clock, id, 'coder', NOON - 2 * HOUR, NOON - HOUR, 'crashed');
    expect(factsAt(store, NOON).rateLimits.cooldowns).toBe(0);
  });
});

describe('the queries stay on their indexes (schema v7), whatever the board holds', () => {
  it('each walks a covering index or a range, never the runs or events tables', () => {
    const { store } = board();
    const plans: string[] = [];
    const prepare = store.db.prepare.bind(store.db);
    store.db.prepare = ((sql: string) => {
      if (!sql.startsWith('EXPLAIN')) plans.push((prepare(`EXPLAIN QUERY PLAN ${sql}`).all({ now: NOON, since: NOON - 24 * HOUR, limit: 5 }) as Array<{ detail: string }>).map((r) => r.detail).join(' | '));
      return prepare(sql);
    }) as typeof store.db.prepare;
    factsAt(store, NOON);
    expect(plans).toHaveLength(4);
    expect(plans[0]).toMatch(/SEARCH tasks USING INDEX tasks_status_updated \(status=\? AND updated_at>\?\)/);
    expect(plans[1]).toMatch(/^SCAN task_runs USING COVERING INDEX task_runs_profile_outcome$/);
    expect(plans[2]).toMatch(/SCAN e USING INDEX task_events_rate_limited\b/);
    expect(plans[2]).toMatch(/SEARCH n USING COVERING INDEX task_runs_task_time/);
    expect(plans[3]).toMatch(/SCAN task_runs USING COVERING INDEX task_runs_task_time/);
    for (const plan of plans) expect(plan).not.toMatch(/SCAN (task_runs|task_events|e|n|r)(?: |$)(?!USING)/);
  });
});
