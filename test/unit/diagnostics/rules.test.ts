import { describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../src/store/db.js';
import { diagnose, DEFAULT_THRESHOLDS } from '../../../src/diagnostics/rules.js';
import { loadTaskFacts } from '../../../src/store/diagnostics.js';
import { addComment } from '../../../src/store/comments.js';
import { blockTask, completeTask, unblockTask } from '../../../src/store/lifecycle.js';
import { createTask } from '../../../src/store/tasks.js';
import { appendEvent } from '../../../src/store/events.js';
import { manualClock, type ManualClock } from '../../helpers/board.js';

const HOUR = 3_600_000;

function board(): { store: Store; clock: ManualClock; findings: () => ReturnType<typeof diagnose> } {
  const clock = manualClock();
  const store = openStore(':memory:', { clock });
  return { store, clock, findings: () => diagnose(loadTaskFacts(store), clock.now()) };
}

/** What the circuit breaker will write (issue 3): the task blocked by a `gave_up` event, after a failed run. */
function tripBreaker(store: Store, id: string, failures: number): void {
  store.db.prepare(`INSERT INTO task_runs (task_id, status, claim_lock, started_at, ended_at, outcome, error, exit_code) VALUES (?, 'ended', 'h:1:x', 0, 1, 'crashed', 'segfault', 139)`).run(id);
  store.db.prepare("UPDATE tasks SET status = 'blocked', consecutive_failures = ? WHERE id = ?").run(failures, id);
  appendEvent(store, id, 'gave_up', { failures, limit: 2, limit_source: 'default', trigger: 'crashed' });
}

describe('diagnostics rules', () => {
  it('an empty or healthy board has nothing to say', () => {
    const { store, findings } = board();
    expect(findings()).toEqual([]);
    createTask(store, { title: 'fine' });
    const done = createTask(store, { title: 'parent' }).task.id;
    completeTask(store, done);
    expect(findings()).toEqual([]);
  });

  describe('dependency_wait', () => {
    it('names the unfinished parents of a todo task', () => {
      const { store, findings } = board();
      const a = createTask(store, { title: 'a' }).task.id;
      const b = createTask(store, { title: 'b', status: 'blocked' }).task.id;
      const child = createTask(store, { title: 'child', parents: [a, b] }).task.id;
      expect(findings()).toEqual([
        {
          rule: 'dependency_wait',
          severity: 'warning',
          task_id: child,
          title: 'child',
          reason: `waiting on ${[`${a} (ready)`, `${b} (blocked)`].sort().join(', ')}`,
          fix: { command: `kanban promote ${child} --force`, key: 'P' },
        },
      ]);
    });

    it('does not fire once the parents are done', () => {
      const { store, findings } = board();
      const a = createTask(store, { title: 'a' }).task.id;
      createTask(store, { title: 'child', parents: [a] });
      completeTask(store, a);
      expect(findings()).toEqual([]);
    });
  });

  describe('stuck_blocked', () => {
    it('fires after 24 h blocked with no comment or unblock', () => {
      const { store, clock, findings } = board();
      const id = createTask(store, { title: 'stuck' }).task.id;
      blockTask(store, id, 'needs the API key');
      clock.advance(25 * HOUR);
      expect(findings()).toMatchObject([
        { rule: 'stuck_blocked', severity: 'warning', task_id: id, reason: 'blocked for 1d (needs the API key) with no comment or unblock since', fix: { command: `kanban unblock ${id}`, key: 'u' } },
      ]);
    });

    it('does not fire before 24 h, or when someone commented since', () => {
      const { store, clock, findings } = board();
      const id = createTask(store, { title: 'stuck' }).task.id;
      blockTask(store, id);
      clock.advance(23 * HOUR);
      expect(findings()).toEqual([]);
      addComment(store, id, 'asked ops for the key');
      clock.advance(2 * HOUR);
      expect(findings()).toEqual([]);
    });

    it('counts from the latest block, not the first', () => {
      const { store, clock, findings } = board();
      const id = createTask(store, { title: 'stuck' }).task.id;
      blockTask(store, id);
      clock.advance(30 * HOUR);
      unblockTask(store, id);
      blockTask(store, id);
      clock.advance(HOUR);
      expect(findings()).toEqual([]);
    });
  });

  describe('block_cycling', () => {
    it('fires at 3 block→unblock cycles within 24 h', () => {
      const { store, clock, findings } = board();
      const id = createTask(store, { title: 'flaky' }).task.id;
      for (let i = 0; i < 3; i++) {
        blockTask(store, id);
        clock.advance(HOUR);
        unblockTask(store, id);
      }
      expect(findings()).toMatchObject([{ rule: 'block_cycling', severity: 'error', task_id: id, reason: expect.stringMatching(/^3 block→unblock cycles in the last 1d/) }]);
    });

    it('does not count cycles older than the window, or two cycles', () => {
      const { store, clock, findings } = board();
      const id = createTask(store, { title: 'flaky' }).task.id;
      blockTask(store, id);
      unblockTask(store, id);
      clock.advance(DEFAULT_THRESHOLDS.cycleWindowMs + HOUR);
      for (let i = 0; i < 2; i++) {
        blockTask(store, id);
        unblockTask(store, id);
      }
      expect(findings()).toEqual([]);
    });

    it('counts breaker blocks (gave_up) as blocks', () => {
      const { store, findings } = board();
      const id = createTask(store, { title: 'flaky' }).task.id;
      for (let i = 0; i < 3; i++) {
        tripBreaker(store, id, 2);
        unblockTask(store, id);
      }
      expect(findings().map((f) => f.rule)).toEqual(['block_cycling']);
    });
  });

  describe('breaker_tripped', () => {
    it('fires for a breaker block, with the last run’s error and exit code', () => {
      const { store, findings } = board();
      const id = createTask(store, { title: 'crashy' }).task.id;
      tripBreaker(store, id, 2);
      expect(findings()).toEqual([
        {
          rule: 'breaker_tripped',
          severity: 'error',
          task_id: id,
          title: 'crashy',
          reason: 'circuit breaker blocked it after 2 failures of 2; last run crashed exit 139: segfault',
          fix: { command: `kanban unblock ${id}`, key: 'u' },
        },
      ]);
    });

    it('does not fire for a sticky block by a person, nor after an unblock', () => {
      const { store, findings } = board();
      const sticky = createTask(store, { title: 'sticky' }).task.id;
      blockTask(store, sticky, 'by hand');
      const recovered = createTask(store, { title: 'recovered' }).task.id;
      tripBreaker(store, recovered, 2);
      unblockTask(store, recovered);
      expect(findings()).toEqual([]);
    });
  });

  it('orders findings most severe first', () => {
    const { store, clock, findings } = board();
    const stuck = createTask(store, { title: 'stuck' }).task.id;
    blockTask(store, stuck);
    const crashy = createTask(store, { title: 'crashy' }).task.id;
    tripBreaker(store, crashy, 2);
    clock.advance(25 * HOUR);
    expect(findings().map((f) => [f.severity, f.rule])).toEqual([
      ['error', 'breaker_tripped'],
      ['warning', 'stuck_blocked'],
      ['warning', 'stuck_blocked'],
    ]);
  });
});
