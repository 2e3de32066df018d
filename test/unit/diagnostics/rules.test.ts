import { thisHost } from '../../../src/host.js';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { diagnoseBoard } from '../../../src/diagnostics/board.js';
import type { Finding } from '../../../src/diagnostics/rules.js';
import { resolveSettings } from '../../../src/settings.js';
import { addComment } from '../../../src/store/comments.js';
import { SqliteBoard } from '../../../src/store/sqlite-board.js';
import { openStore, type Store } from '../../../src/store/db.js';
import { appendEvent } from '../../../src/store/events.js';
import { heartbeat, recordExit } from '../../../src/store/lease.js';
import type { RunIdentity } from '../../../src/core/run.js';
import { blockTask, completeTask, unblockTask } from '../../../src/store/lifecycle.js';
import { createTask } from '../../../src/store/tasks.js';
import { manualClock, type ManualClock, claimOrFail, forceTask, forceRun } from '../../helpers/board.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const config = parseConfig(
  JSON.stringify({ profiles: { coder: { command: ['agent'] }, solo: { command: ['agent'], max_in_progress: 1 } }, diagnostics: { stranded_ready_minutes: 30 } }),
  'test.yaml',
);
const settings = resolveSettings(config, { KANBAN_HEARTBEAT_MAX_STALE_SECONDS: '3600', KANBAN_CRASH_GRACE_SECONDS: '30', KANBAN_TICK_SECONDS: '2' });

/**
 * Boards built in memory (a real SQLite database, no file), the clock moved by hand, and liveness
 * given as a set of pids: the rules judge facts, so nothing else is needed to make each one fire.
 */
function board(cfg = config): { store: Store; clock: ManualClock; alive: Set<number>; findings: () => Promise<Finding[]>; rules: () => Promise<string[]> } {
  const clock = manualClock();
  const store = openStore(':memory:', { clock });
  const alive = new Set<number>();
  const probe = { host: thisHost().id, isRunProcess: (pid: number | null) => pid !== null && alive.has(pid) };
  const port = new SqliteBoard(store);
  const findings = () => diagnoseBoard(port, cfg, settings, clock.now(), probe);
  return { store, clock, alive, findings, rules: async () => (await findings()).map((f) => `${f.rule} ${f.task_id}`) };
}

function claimed(store: Store, title = 'work', assignee = 'coder'): RunIdentity {
  const { task } = createTask(store, { title, assignee });
  const claim = claimOrFail(store, task.id, { profile: assignee, leaseMs: 15 * MINUTE });
  return claim.identity;
}

/** A claimed run with a live supervisor and a worker pid, as the dispatcher leaves it. */
function healthy(b: ReturnType<typeof board>, title = 'work', assignee = 'coder'): RunIdentity {
  const id = claimed(b.store, title, assignee);
  forceRun(b.store, id.runId, { supervisor_pid: 700, worker_pid: 701 });
  forceTask(b.store, id.taskId, { worker_pid: 701 });
  b.alive.add(700);
  return id;
}

describe('diagnostics rules', () => {
  it('a healthy board has nothing to say', async () => {
    const b = board();
    createTask(b.store, { title: 'fine', assignee: 'coder' });
    completeTask(b.store, createTask(b.store, { title: 'finished' }).task.id);
    healthy(b);
    b.clock.advance(10 * SECOND);
    expect(await b.findings()).toEqual([]);
  });

  describe('ghost_running', () => {
    it('fires for a running task without a lock, without a run, or whose run is closed', async () => {
      const b = board();
      const noLock = healthy(b, 'no lock');
      forceTask(b.store, noLock.taskId, { claim_lock: null });
      const closed = healthy(b, 'closed run');
      forceRun(b.store, closed.runId, { status: 'ended' });
      const noRun = createTask(b.store, { title: 'no run' }).task.id;
      forceTask(b.store, noRun, { status: 'running' });
      const found = (await b.findings()).filter((f) => f.rule === 'ghost_running');
      expect(found.map((f) => f.task_id).sort()).toEqual([noLock.taskId, closed.taskId, noRun].sort());
      expect(found.find((f) => f.task_id === closed.taskId)).toMatchObject({
        severity: 'critical',
        reason: 'running without a open run (its run is closed): nothing will ever finish it',
        fix: { command: `kanban reclaim ${closed.taskId}`, key: 'r' },
      });
    });

    it('fires for a missing worker pid only past the crash grace', async () => {
      const b = board();
      const id = claimed(b.store);
      forceRun(b.store, id.runId, { supervisor_pid: 700 });
      b.alive.add(700);
      b.clock.advance(29 * SECOND);
      expect(await b.rules()).toEqual([]);
      b.clock.advance(2 * SECOND);
      expect(await b.rules()).toEqual([`ghost_running ${id.taskId}`]);
    });
  });

  describe('expired_lease', () => {
    it('fires when the lease ran out and no one took the task back', async () => {
      const b = board();
      const id = healthy(b);
      b.clock.advance(15 * MINUTE + 5 * SECOND);
      expect(await b.findings()).toEqual([
        expect.objectContaining({ rule: 'expired_lease', severity: 'critical', task_id: id.taskId, reason: 'its lease expired 5s ago; last heard from 15m ago, not reclaimed yet' }),
      ]);
    });

    it('fires when the supervisor is dead, lease or not', async () => {
      const b = board();
      const id = healthy(b);
      b.alive.delete(700);
      b.clock.advance(31 * SECOND);
      expect(await b.findings()).toEqual([expect.objectContaining({ rule: 'expired_lease', reason: expect.stringMatching(/^its supervisor 700 is gone/) })]);
    });

    it('does not fire within two ticks of the end (a dispatcher extends it then)', async () => {
      const b = board();
      healthy(b);
      b.clock.advance(15 * MINUTE + 4 * SECOND);
      expect(await b.rules()).toEqual([]);
    });
  });

  describe('heartbeat_stale', () => {
    it('fires after half of MAX_STALE without a heartbeat, not before', async () => {
      const b = board();
      const id = healthy(b);
      heartbeat(b.store, id);
      b.clock.advance(10 * MINUTE);
      heartbeat(b.store, id);
      b.clock.advance(14 * MINUTE);
      heartbeat(b.store, id); // keeps the lease (15 m) alive
      b.clock.advance(14 * MINUTE);
      expect(await b.rules()).toEqual([]);
      // silent from now on, with the lease extended by a dispatcher (not a heartbeat)
      forceTask(b.store, id.taskId, { claim_expires: b.clock.now() + HOUR });
      b.clock.advance(17 * MINUTE);
      expect(await b.findings()).toEqual([
        expect.objectContaining({ rule: 'heartbeat_stale', severity: 'warning', reason: 'no heartbeat or output for 31m (reclaimed at 1h)', fix: { command: `kanban reclaim ${id.taskId}`, key: 'r' } }),
      ]);
    });
  });

  describe('breaker_tripped', () => {
    it('fires for a breaker block, with the last run’s error and exit code', async () => {
      const b = board();
      const first = claimed(b.store);
      const failures = { limit: 2, limitSource: 'default' };
      recordExit(b.store, first, { exitCode: 139, signal: null, onCleanExit: 'violation', failures, rateLimitCooldownMs: 0 });
      const second = claimOrFail(b.store, first.taskId, { profile: 'coder', leaseMs: MINUTE });
      recordExit(b.store, second.identity, { exitCode: 139, signal: null, onCleanExit: 'violation', failures, rateLimitCooldownMs: 0 });
      expect(await b.findings()).toEqual([
        expect.objectContaining({
          rule: 'breaker_tripped',
          severity: 'error',
          reason: 'circuit breaker blocked it after 2 failures of 2; last run crashed exit 139: exited 139',
          fix: { command: `kanban unblock ${first.taskId}`, key: 'u' },
        }),
      ]);
    });

    it('does not fire for a sticky block, nor after an unblock', async () => {
      const b = board();
      blockTask(b.store, createTask(b.store, { title: 'by hand' }).task.id, 'legal review');
      const id = createTask(b.store, { title: 'recovered' }).task.id;
      forceTask(b.store, id, { status: 'blocked' });
      appendEvent(b.store, id, 'gave_up', { limit: 2 });
      unblockTask(b.store, id);
      expect(await b.rules()).toEqual([]);
    });
  });

  describe('stuck_blocked', () => {
    it('fires after 24 h blocked with no comment or unblock, not before, not after a comment', async () => {
      const b = board();
      const id = createTask(b.store, { title: 'stuck' }).task.id;
      blockTask(b.store, id, 'needs the API key');
      b.clock.advance(23 * HOUR);
      expect(await b.rules()).toEqual([]);
      b.clock.advance(2 * HOUR);
      expect(await b.findings()).toEqual([expect.objectContaining({ rule: 'stuck_blocked', reason: 'blocked for 1d (needs the API key) with no comment or unblock since', fix: { command: `kanban unblock ${id}`, key: 'u' } })]);
      addComment(b.store, id, 'asked ops');
      expect(await b.rules()).toEqual([]);
    });

    it('takes its threshold from the config', async () => {
      const b = board(parseConfig(JSON.stringify({ diagnostics: { stuck_blocked_hours: 2 } }), 'c.yaml'));
      const id = createTask(b.store, { title: 'stuck' }).task.id;
      blockTask(b.store, id);
      b.clock.advance(3 * HOUR);
      expect(await b.rules()).toEqual([`stuck_blocked ${id}`]);
    });
  });

  describe('block_cycling', () => {
    it('fires at 3 block→unblock cycles within 24 h, even while the task is ready again', async () => {
      const b = board();
      const id = createTask(b.store, { title: 'flaky', assignee: 'coder' }).task.id;
      for (let i = 0; i < 3; i++) {
        blockTask(b.store, id);
        b.clock.advance(HOUR);
        unblockTask(b.store, id);
      }
      expect(await b.findings()).toEqual([expect.objectContaining({ rule: 'block_cycling', severity: 'error', reason: expect.stringMatching(/^3 block→unblock cycles in the last 1d/) })]);
    });

    it('does not count cycles older than the window, nor fire at two', async () => {
      const b = board();
      const id = createTask(b.store, { title: 'flaky', assignee: 'coder' }).task.id;
      blockTask(b.store, id);
      unblockTask(b.store, id);
      b.clock.advance(25 * HOUR);
      for (let i = 0; i < 2; i++) {
        blockTask(b.store, id);
        unblockTask(b.store, id);
      }
      expect(await b.rules()).toEqual([]);
    });
  });

  describe('stranded_ready', () => {
    it('fires after 30 min ready with no assignee and no default, saying which', async () => {
      const b = board();
      const id = createTask(b.store, { title: 'nobody' }).task.id;
      b.clock.advance(29 * MINUTE);
      expect(await b.rules()).toEqual([]);
      b.clock.advance(2 * MINUTE);
      expect(await b.findings()).toEqual([
        expect.objectContaining({ rule: 'stranded_ready', reason: 'ready for 31m but it has no assignee and the config has no default_assignee', fix: { command: `kanban edit ${id} --assignee PROFILE`, key: 'a' } }),
      ]);
    });

    it('fires for an assignee with no profile, and for a profile at its cap', async () => {
      const b = board();
      const ghost = createTask(b.store, { title: 'ghost', assignee: 'ghost' }).task.id;
      healthy(b, 'solo running', 'solo');
      const waiting = createTask(b.store, { title: 'solo waiting', assignee: 'solo' }).task.id;
      b.clock.advance(31 * MINUTE);
      const reasons = Object.fromEntries((await b.findings()).filter((f) => f.rule === 'stranded_ready').map((f) => [f.task_id, f.reason]));
      expect(reasons).toEqual({
        [ghost]: "ready for 31m but its assignee 'ghost' has no profile in the config",
        [waiting]: 'ready for 31m but profile solo is at its cap of 1 running',
      });
    });

    it('does not fire for a task that can run', async () => {
      const b = board();
      createTask(b.store, { title: 'runnable', assignee: 'coder' });
      b.clock.advance(2 * HOUR);
      expect(await b.rules()).toEqual([]);
    });
  });

  describe('rate_limited_waiting', () => {
    it('fires while a cooldown holds the task, with when it clears; not after', async () => {
      const b = board();
      const id = claimed(b.store);
      recordExit(b.store, id, { exitCode: 75, signal: null, onCleanExit: 'violation', failures: { limit: 2, limitSource: 'default' }, rateLimitCooldownMs: 5 * MINUTE });
      b.clock.advance(MINUTE);
      expect(await b.findings()).toEqual([
        expect.objectContaining({ rule: 'rate_limited_waiting', severity: 'warning', reason: expect.stringMatching(/^rate limited: no respawn until .* \(in 4m\)$/), fix: { command: 'kanban dispatch', key: 'd' } }),
      ]);
      b.clock.advance(5 * MINUTE);
      expect(await b.rules()).toEqual([]);
    });
  });

  describe('dependency_wait', () => {
    it('names the unfinished parents of a todo task; not once they are done', async () => {
      const b = board();
      const a = createTask(b.store, { title: 'a', assignee: 'coder' }).task.id;
      const child = createTask(b.store, { title: 'child', assignee: 'coder', parents: [a] }).task.id;
      expect(await b.findings()).toEqual([
        expect.objectContaining({ rule: 'dependency_wait', reason: `waiting on ${a} (ready)`, fix: { command: `kanban promote ${child} --force`, key: 'P' } }),
      ]);
      completeTask(b.store, a);
      expect(await b.rules()).toEqual([]);
    });
  });

  it('orders findings most severe first', async () => {
    const b = board();
    const ghost = createTask(b.store, { title: 'ghost' }).task.id;
    forceTask(b.store, ghost, { status: 'running' });
    const stuck = createTask(b.store, { title: 'stuck' }).task.id;
    blockTask(b.store, stuck);
    b.clock.advance(25 * HOUR);
    expect((await b.findings()).map((f) => [f.severity, f.rule])).toEqual([
      ['critical', 'ghost_running'],
      ['warning', 'stuck_blocked'],
    ]);
  });
});
