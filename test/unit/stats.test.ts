import { describe, expect, it } from 'vitest';
import { computeStats, sparkline, statsWindow } from '../../src/stats.js';
import type { StatsFacts } from '../../src/port/types.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);

const noFacts = (): StatsFacts => ({ completions: [], runs: [], rateLimits: { cooldowns: 0, total_ms: 0, since_ms: 0, waiting: 0 }, slowest: [] });

describe('sparkline', () => {
  it('scales to the largest value with the eight blocks', () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7])).toBe('▁▂▃▄▅▆▇█');
    expect(sparkline([10, 5, 0])).toBe('█▅▁');
  });

  it('all zero (or nothing above zero) is all ▁; no values is no line', () => {
    expect(sparkline([0, 0, 0])).toBe('▁▁▁');
    expect(sparkline([-3, 0, Number.NaN])).toBe('▁▁▁');
    expect(sparkline([])).toBe('');
  });

  it('a little is never drawn as nothing', () => {
    expect(sparkline([1, 1000])).toBe('▂█');
  });
});

describe('computeStats', () => {
  it('no runs and no completions: 24 zero hours, no profiles, no time lost, no slow tasks', () => {
    expect(computeStats(noFacts(), NOW)).toEqual({
      generated_at: NOW,
      completions_per_hour: new Array(24).fill(0),
      completions_24h: 0,
      profiles: [],
      rate_limit_wait: { last_24h_ms: 0, total_ms: 0, cooldowns: 0, waiting_now: 0 },
      slowest_tasks: [],
    });
  });

  it('completions per hour, oldest first: each hour of age is one slot, its upper edge included', () => {
    const at = (age: number) => NOW - age;
    const stats = computeStats({ ...noFacts(), completions: [at(0), at(30 * MINUTE), at(HOUR), at(HOUR + 1), at(23.5 * HOUR), at(24 * HOUR)] }, NOW);
    expect(stats.completions_per_hour[23]).toBe(3); // ages 0, 30 min and exactly 1 h
    expect(stats.completions_per_hour[22]).toBe(1); // just over 1 h
    expect(stats.completions_per_hour[0]).toBe(2); // 23.5 h and exactly 24 h
    expect(stats.completions_24h).toBe(6);
  });

  it('completions older than 24 h are left out; one ahead of the clock counts as now', () => {
    const stats = computeStats({ ...noFacts(), completions: [NOW - 24 * HOUR - 1, NOW - 48 * HOUR, NOW + 5 * MINUTE] }, NOW);
    expect(stats.completions_per_hour).toEqual([...new Array(23).fill(0), 1]);
  });

  it('the clock is the one passed in: the same facts an hour later move one slot left', () => {
    const facts = { ...noFacts(), completions: [NOW - 10 * MINUTE] };
    expect(computeStats(facts, NOW).completions_per_hour.indexOf(1)).toBe(23);
    expect(computeStats(facts, NOW + HOUR).completions_per_hour.indexOf(1)).toBe(22);
    expect(computeStats(facts, NOW + 24 * HOUR).completions_24h).toBe(0);
  });

  it('outcomes and mean run time per profile, most runs first, the runs without a profile last', () => {
    const stats = computeStats(
      {
        ...noFacts(),
        runs: [
          { profile: null, outcome: 'completed', runs: 1, ended: 1, ended_ms: HOUR },
          { profile: 'codex', outcome: 'completed', runs: 1, ended: 1, ended_ms: 2 * MINUTE },
          { profile: 'claude', outcome: null, runs: 2, ended: 0, ended_ms: 0 },
          { profile: 'claude', outcome: 'completed', runs: 3, ended: 3, ended_ms: 30 * MINUTE },
          { profile: 'claude', outcome: 'rate_limited', runs: 1, ended: 1, ended_ms: 2 * MINUTE },
        ],
      },
      NOW,
    );
    expect(stats.profiles).toEqual([
      { profile: 'claude', runs: 6, running: 2, outcomes: { completed: 3, rate_limited: 1 }, mean_run_ms: 8 * MINUTE },
      { profile: 'codex', runs: 1, running: 0, outcomes: { completed: 1 }, mean_run_ms: 2 * MINUTE },
      { profile: null, runs: 1, running: 0, outcomes: { completed: 1 }, mean_run_ms: HOUR },
    ]);
  });

  it('a profile whose runs are all still going has no mean run time yet', () => {
    const stats = computeStats({ ...noFacts(), runs: [{ profile: 'coder', outcome: null, runs: 1, ended: 0, ended_ms: 0 }] }, NOW);
    expect(stats.profiles).toEqual([{ profile: 'coder', runs: 1, running: 1, outcomes: {}, mean_run_ms: null }]);
  });

  it('rate-limit waits and the slowest tasks come from the facts as they are', () => {
    const slowest = Array.from({ length: 6 }, (_, i) => ({ id: `t_0000000${i}`, title: `task ${i}`, run_ms: (6 - i) * HOUR, runs: 1 }));
    const stats = computeStats({ ...noFacts(), rateLimits: { cooldowns: 3, total_ms: 5 * HOUR, since_ms: HOUR, waiting: 1 }, slowest }, NOW);
    expect(stats.rate_limit_wait).toEqual({ last_24h_ms: HOUR, total_ms: 5 * HOUR, cooldowns: 3, waiting_now: 1 });
    expect(stats.slowest_tasks).toEqual(slowest.slice(0, 5));
  });

  it('the window read is the 24 h before now, and the five slowest', () => {
    expect(statsWindow(NOW)).toEqual({ now: NOW, since: NOW - 24 * HOUR, slowest: 5 });
  });
});
