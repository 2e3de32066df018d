import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.js';
import { expectFailure, kanban, kanbanJson } from '../helpers/cli.js';
import { manualClock, tempDir } from '../helpers/board.js';
import { run, taskAt } from '../helpers/history.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * A real board whose history was made through the store's own transitions, on times relative to
 * now (the CLI reads the system clock): two profiles, a completion 30 minutes ago after a rate limit,
 * a crash, a completion 30 hours ago, and a run still going.
 */
function boardWithHistory(): { db: string; ids: Record<string, string> } {
  const db = join(tempDir(), 'board.db');
  const now = Date.now();
  const clock = manualClock(now - 48 * HOUR);
  const store = openStore(db, { clock });
  try {
    const limited = taskAt(store, clock, now - 3 * HOUR, 'rate limited, then done \u001b[31mred\u001b[0m');
    run(store, clock, limited, 'claude', now - 2 * HOUR, now - 2 * HOUR + 10 * MINUTE, { rateLimitedFor: 20 * MINUTE });
    run(store, clock, limited, 'claude', now - HOUR, now - 30 * MINUTE, 'completed');
    const crashed = taskAt(store, clock, now - 40 * HOUR, 'crashed once');
    run(store, clock, crashed, 'codex', now - 40 * HOUR, now - 38.5 * HOUR, 'crashed');
    const old = taskAt(store, clock, now - 31 * HOUR, 'done yesterday');
    run(store, clock, old, 'claude', now - 31 * HOUR, now - 30 * HOUR, 'completed');
    const going = taskAt(store, clock, now - 20 * MINUTE, 'still going');
    run(store, clock, going, 'codex', now - 10 * MINUTE, now, 'open');
    return { db, ids: { limited, crashed, old, going } };
  } finally {
    store.close();
  }
}

describe('kanban stats', () => {
  it('--json: the Stats object, snake_case, epoch ms', () => {
    const { db, ids } = boardWithHistory();
    const before = Date.now();
    const stats = kanbanJson(db, ['stats']);
    expect(stats.generated_at).toBeGreaterThanOrEqual(before);
    expect(stats.completions_per_hour).toHaveLength(24);
    expect(stats.completions_per_hour.slice(0, 23)).toEqual(new Array(23).fill(0));
    expect(stats).toMatchObject({ completions_24h: 1 });
    expect(stats.completions_per_hour[23]).toBe(1);
    expect(stats.profiles).toEqual([
      { profile: 'claude', runs: 3, running: 0, outcomes: { completed: 2, rate_limited: 1 }, mean_run_ms: Math.round((10 * MINUTE + 30 * MINUTE + HOUR) / 3) },
      { profile: 'codex', runs: 2, running: 1, outcomes: { crashed: 1 }, mean_run_ms: 1.5 * HOUR },
    ]);
    // Waited 20 minutes (the whole cooldown: the next run came later); all of it within 24 h.
    expect(stats.rate_limit_wait).toEqual({ last_24h_ms: 20 * MINUTE, total_ms: 20 * MINUTE, cooldowns: 1, waiting_now: 0 });
    expect(stats.slowest_tasks.map((t: { id: string }) => t.id)).toEqual([ids.crashed, ids.old, ids.limited, ids.going]);
    expect(stats.slowest_tasks[0]).toEqual({ id: ids.crashed, title: 'crashed once', run_ms: 1.5 * HOUR, runs: 1 });
    expect(stats.slowest_tasks[2].title).toBe('rate limited, then done \u001b[31mred\u001b[0m'); // JSON keeps the text as written
  });

  it('in words: the sparkline line, outcomes per profile as a table, time lost, slowest tasks with clean titles', () => {
    const { db, ids } = boardWithHistory();
    const result = kanban(['--db', db, 'stats']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe(`completions/h (24h): ${'▁'.repeat(23)}█  total 1`);
    expect(result.stdout).toContain(
      [
        'runs per profile',
        'PROFILE  RUNS  RUNNING  COMPLETED  CRASHED  RATE_LIMITED  MEAN RUN',
        'claude      3        0          2        0             1       33m',
        'codex       2        1          0        1             0        1h',
      ].join('\n'),
    );
    expect(result.stdout).toContain('time lost to rate limits: 20m in the last 24h, 20m in all (1 cooldown)');
    expect(result.stdout).toContain(`${ids.limited}       40m     2  rate limited, then done red\n`);
    expect(result.stdout).not.toContain('\u001b');
  });

  it('an empty board says there is nothing yet', () => {
    const db = join(tempDir(), 'board.db');
    expect(kanban(['--db', db, 'init']).code).toBe(0);
    const result = kanban(['--db', db, 'stats']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        `completions/h (24h): ${'▁'.repeat(24)}  total 0`,
        '',
        'runs per profile: no runs yet',
        '',
        'time lost to rate limits: 0s in the last 24h, 0s in all (0 cooldowns)',
        '',
        'slowest tasks: none has run yet',
        '',
      ].join('\n'),
    );
  });

  it('never creates a board: one that does not exist is exit 4 naming kanban init, and no file appears', () => {
    const dir = tempDir();
    const db = join(dir, 'board.db');
    expectFailure(db, ['stats'], 4, /no board at .*kanban init/);
    expect(existsSync(db)).toBe(false);
    const home = kanban(['stats', '--json'], { KANBAN_HOME: join(dir, 'home') });
    expect(home.code).toBe(4);
    expect(existsSync(join(dir, 'home'))).toBe(false);
  });

  it('takes no arguments: an extra one is exit 2 and changes nothing', () => {
    const { db } = boardWithHistory();
    expectFailure(db, ['stats', 'extra'], 2, /too many arguments|unknown/);
  });
});
