import type { StatsFacts } from './port/types.js';

/**
 * Run statistics, computed from the facts the store reads (store/stats.ts) and a time: pure, so the
 * CLI (`kanban stats`) and the board show the same numbers. JSON keys are snake_case, times epoch ms.
 */

const HOUR_MS = 3_600_000;
export const STATS_HOURS = 24;
export const STATS_WINDOW_MS = STATS_HOURS * HOUR_MS;
export const SLOWEST_COUNT = 5;

export interface Stats {
  generated_at: number;
  /**
   * Tasks finished per hour over the last 24 h, oldest first: element k counts completions whose age
   * is in ((23 − k) h, (24 − k) h]; the last also takes age 0 and times ahead of the clock.
   * A task counts once, at its latest completion, while it is done or archived.
   */
  completions_per_hour: number[];
  completions_24h: number;
  /** Every run ever, per profile (null: runs claimed without one), most runs first. */
  profiles: ProfileStats[];
  rate_limit_wait: RateLimitWait;
  /** The tasks with the most run time (a run still going counts up to now), most first. */
  slowest_tasks: Array<{ id: string; title: string; run_ms: number; runs: number }>;
}

export interface ProfileStats {
  profile: string | null;
  runs: number;
  /** Runs still open. */
  running: number;
  /** Ended runs by outcome (only outcomes that occurred). */
  outcomes: Record<string, number>;
  /** The mean length of its ended runs; null when none has ended. */
  mean_run_ms: number | null;
}

/** Time tasks waited because of a rate limit: RateLimitFacts (store/stats.ts) says how it is counted. */
export interface RateLimitWait {
  /** The part of every wait that falls within the last 24 h. */
  last_24h_ms: number;
  total_ms: number;
  /** Cooldowns ever set; and how many still hold a task back now. */
  cooldowns: number;
  waiting_now: number;
}

export function computeStats(facts: StatsFacts, now: number): Stats {
  const perHour = completionsPerHour(facts.completions, now);
  return {
    generated_at: now,
    completions_per_hour: perHour,
    completions_24h: perHour.reduce((sum, n) => sum + n, 0),
    profiles: profileStats(facts.runs),
    rate_limit_wait: { last_24h_ms: facts.rateLimits.since_ms, total_ms: facts.rateLimits.total_ms, cooldowns: facts.rateLimits.cooldowns, waiting_now: facts.rateLimits.waiting },
    slowest_tasks: facts.slowest.slice(0, SLOWEST_COUNT).map(({ id, title, run_ms, runs }) => ({ id, title, run_ms, runs })),
  };
}

function completionsPerHour(completions: readonly number[], now: number): number[] {
  const hours = new Array<number>(STATS_HOURS).fill(0);
  for (const at of completions) {
    const age = now - at;
    if (age > STATS_WINDOW_MS) continue;
    const index = age <= 0 ? STATS_HOURS - 1 : STATS_HOURS - Math.ceil(age / HOUR_MS);
    hours[index]!++;
  }
  return hours;
}

function profileStats(groups: StatsFacts['runs']): ProfileStats[] {
  const byProfile = new Map<string | null, ProfileStats & { ended: number; ended_ms: number }>();
  for (const group of groups) {
    let entry = byProfile.get(group.profile);
    if (!entry) {
      entry = { profile: group.profile, runs: 0, running: 0, outcomes: {}, mean_run_ms: null, ended: 0, ended_ms: 0 };
      byProfile.set(group.profile, entry);
    }
    entry.runs += group.runs;
    // An open run has no outcome yet; an ended run without one (none is written so) counts as unknown.
    const outcome = group.outcome ?? (group.ended > 0 ? 'unknown' : null);
    if (group.outcome === null) entry.running += group.runs - group.ended;
    if (outcome !== null) entry.outcomes[outcome] = (entry.outcomes[outcome] ?? 0) + (group.outcome === null ? group.ended : group.runs);
    entry.ended += group.ended;
    entry.ended_ms += group.ended_ms;
  }
  return [...byProfile.values()]
    .sort((a, b) => b.runs - a.runs || order(a.profile, b.profile))
    .map(({ ended, ended_ms, ...entry }) => ({ ...entry, mean_run_ms: ended > 0 ? Math.round(ended_ms / ended) : null }));
}

/** Named profiles by name, the runs without one last. */
function order(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

const BLOCKS = '▁▂▃▄▅▆▇█';

/**
 * One block character per value, scaled to the largest: the largest is █, zero (and anything not
 * above zero) ▁, and any value above zero at least ▂, so that a little is never drawn as nothing.
 */
export function sparkline(values: readonly number[]): string {
  const max = Math.max(0, ...values.filter(Number.isFinite));
  return values
    .map((value) => {
      if (!(value > 0) || max === 0) return BLOCKS[0];
      const level = Math.max(1, Math.round((Math.min(value, max) / max) * (BLOCKS.length - 1)));
      return BLOCKS[level];
    })
    .join('');
}

/** What to read for the stats at `now` (store/stats.ts readStatsFacts). */
export function statsWindow(now: number): { now: number; since: number; slowest: number } {
  return { now, since: now - STATS_WINDOW_MS, slowest: SLOWEST_COUNT };
}
