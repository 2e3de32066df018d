import { thisHost } from '../../../src/host.js';
import { describe, expect, it } from 'vitest';
import { NotFound, Refused } from '../../../src/errors.js';
import { blockRun, checkOwnership, claimTask, commentFromRun, completeRun, heartbeat, recordExit, recordSpawn, recordFailedRun } from '../../../src/store/lease.js';
import { claimHost, type RunIdentity } from '../../../src/core/run.js';
import { blockTask, completeTask, unblockTask } from '../../../src/store/lifecycle.js';
import { runById } from '../../../src/store/runs.js';
import { createTask, getTask, showTask } from '../../../src/store/tasks.js';
import type { Store } from '../../../src/store/db.js';
import { dumpBoard, eventKinds, lastEvent, manualClock, taskIn, testStore, type ManualClock, claimOrFail, forceTask, forceRun } from '../../helpers/board.js';
import type { WorkerExit } from '../../../src/port/types.js';

const LEASE = 60_000;

function claimed(store: Store, title = 'work', extra: Parameters<typeof createTask>[1] = { title }): RunIdentity {
  const { task } = createTask(store, { ...extra, title });
  const claim = claimOrFail(store, task.id, { profile: 'coder', leaseMs: LEASE });
  return claim.identity;
}

const exitWith = (exitCode: number | null, more: Partial<WorkerExit> = {}): WorkerExit => ({
  exitCode,
  signal: null,
  onCleanExit: 'violation',
  failures: { limit: 2, limitSource: 'default' },
  rateLimitCooldownMs: 300_000,
  ...more,
});

describe('claim', () => {
  it('takes a ready task: a run, a lock, a lease and a claimed event', () => {
    const clock = manualClock();
    const store = testStore(clock);
    const { task } = createTask(store, { title: 'work' });
    const claim = claimOrFail(store, task.id, { profile: 'coder', leaseMs: LEASE });
    expect(claim.identity.claimLock).toMatch(new RegExp(`^[^:]+:${process.pid}:[0-9a-f]{12}$`));
    expect(claimHost(claim.identity.claimLock)).toBe(thisHost().id); // this host's id (src/host.ts), not its hostname
    expect(getTask(store, task.id)).toMatchObject({
      status: 'running',
      claim_lock: claim.identity.claimLock,
      claim_expires: clock.now() + LEASE,
      current_run_id: claim.run.id,
      started_at: clock.now(),
      last_heartbeat_at: null,
    });
    expect(claim.run).toMatchObject({ task_id: task.id, profile: 'coder', status: 'running', lease_ms: LEASE, started_at: clock.now() });
    expect(lastEvent(store, task.id)).toEqual({ kind: 'claimed', payload: { run_id: claim.run.id, profile: 'coder', claim_expires: clock.now() + LEASE, lease_ms: LEASE } });
  });

  it('refuses anything but a ready task without a leftover claim, writing nothing', () => {
    const store = testStore();
    const running = taskIn(store, 'running');
    const leftover = taskIn(store, 'ready');
    forceTask(store, leftover, { claim_lock: 'h:1:ab' });
    const before = dumpBoard(store);
    expect(() => claimTask(store, running, { profile: null, leaseMs: LEASE })).toThrowError(/cannot claim t_\w+: it is running/);
    expect(() => claimTask(store, leftover, { profile: null, leaseMs: LEASE })).toThrowError(/still holds the claim h:1:ab/);
    expect(() => claimTask(store, 't_00000000', { profile: null, leaseMs: LEASE })).toThrowError(NotFound);
    expect(dumpBoard(store)).toEqual(before);
  });

  it('sends the task back to todo when a parent is no longer done', () => {
    const store = testStore();
    const parent = taskIn(store, 'ready');
    const child = createTask(store, { title: 'child', parents: [parent] }).task.id;
    forceTask(store, child, { status: 'ready' }); // e.g. a forced promote
    const claim = claimTask(store, child, { profile: null, leaseMs: LEASE });
    expect(claim).toMatchObject({ claimed: false, task: { status: 'todo' }, reason: `parent ${parent} is not done (ready)` });
    expect(lastEvent(store, child)).toEqual({ kind: 'demoted', payload: { from: 'ready', to: 'todo', unfinished_parents: [parent] } });
    expect(store.db.prepare('SELECT count(*) FROM task_runs').pluck().get()).toBe(0);
  });
});

describe('heartbeat', () => {
  it('moves claim_expires and last_heartbeat_at together, on the task and the run', () => {
    const clock = manualClock();
    const store = testStore(clock);
    const id = claimed(store);
    clock.advance(45_000);
    heartbeat(store, id, { note: 'compiling' });
    const task = getTask(store, id.taskId);
    expect(task).toMatchObject({ claim_expires: clock.now() + LEASE, last_heartbeat_at: clock.now() });
    expect(runById(store, id.taskId, id.runId)!.last_heartbeat_at).toBe(clock.now());
    expect(lastEvent(store, id.taskId)).toEqual({ kind: 'heartbeat', payload: { source: 'worker', claim_expires: clock.now() + LEASE, note: 'compiling' } });
  });

  it('extends by the lease the claim was made with', () => {
    const clock = manualClock();
    const store = testStore(clock);
    const { task } = createTask(store, { title: 'short lease' });
    const claim = claimOrFail(store, task.id, { profile: null, leaseMs: 2000 });
    clock.advance(1500);
    expect(heartbeat(store, claim.identity).claim_expires).toBe(clock.now() + 2000);
  });
});

describe('fencing: a stale identity touches nothing', () => {
  /** A task claimed twice: the first run was taken back, the second holds it now. */
  function supersededRun(clock: ManualClock): { store: Store; stale: RunIdentity; current: RunIdentity } {
    const store = testStore(clock);
    const stale = claimed(store);
    forceRun(store, stale.runId, { status: 'ended', outcome: 'reclaimed' });
    forceTask(store, stale.taskId, { status: 'ready', claim_lock: null, current_run_id: null });
    const claim = claimOrFail(store, stale.taskId, { profile: null, leaseMs: LEASE });
    return { store, stale, current: claim.identity };
  }

  const writes: Array<[string, (store: Store, id: RunIdentity) => unknown]> = [
    ['heartbeat', (s, id) => heartbeat(s, id)],
    ['complete', (s, id) => completeRun(s, id, 'done')],
    ['block', (s, id) => blockRun(s, id, 'stuck')],
    ['comment', (s, id) => commentFromRun(s, id, 'hello')],
    ['guard', (s, id) => checkOwnership(s, id)],
    ['spawn', (s, id) => recordSpawn(s, id, { workerPid: 1, argv: ['x'], workspace: '/tmp' })],
    ['spawn failure', (s, id) => recordFailedRun(s, id, 'spawn_failed', 'nope', { limit: 2, limitSource: 'default' })],
  ];

  it.each(writes)('%s from an earlier run is refused and writes nothing', (_name, write) => {
    const clock = manualClock();
    const { store, stale, current } = supersededRun(clock);
    const before = dumpBoard(store);
    clock.advance(1000);
    expect(() => write(store, stale)).toThrowError(Refused);
    expect(() => write(store, stale)).toThrowError(`run ${stale.runId} of ${stale.taskId} no longer holds the task: run ${current.runId} does`);
    expect(dumpBoard(store)).toEqual(before);
  });

  it.each(writes)('%s with the right run but a wrong lock is refused and writes nothing', (_name, write) => {
    const clock = manualClock();
    const { store, current } = supersededRun(clock);
    const before = dumpBoard(store);
    const forged = { ...current, claimLock: current.claimLock.replace(/.$/, (c) => (c === '0' ? '1' : '0')) };
    expect(() => write(store, forged)).toThrowError(Refused);
    expect(dumpBoard(store)).toEqual(before);
  });

  it('the exit of an earlier run is kept on that run alone: the task and the newer run are untouched', () => {
    const clock = manualClock();
    const { store, stale, current } = supersededRun(clock);
    const task = getTask(store, stale.taskId);
    const newer = runById(store, current.taskId, current.runId);
    expect(recordExit(store, stale, exitWith(null, { signal: 'SIGTERM' }))).toMatchObject({ outcome: 'reclaimed', alreadyClosed: true });
    expect(getTask(store, stale.taskId)).toEqual(task);
    expect(runById(store, current.taskId, current.runId)).toEqual(newer);
    expect(runById(store, stale.taskId, stale.runId)).toMatchObject({ outcome: 'reclaimed', signal: 'SIGTERM' });
  });

  it('an exit with a forged lock is refused and writes nothing', () => {
    const { store, current } = supersededRun(manualClock());
    const before = dumpBoard(store);
    expect(() => recordExit(store, { ...current, claimLock: 'evil:1:00' }, exitWith(1))).toThrowError(Refused);
    expect(dumpBoard(store)).toEqual(before);
  });

  it('once a person completes the task, the worker can no longer write', () => {
    const store = testStore();
    const id = claimed(store);
    completeTask(store, id.taskId);
    const before = dumpBoard(store);
    expect(() => heartbeat(store, id)).toThrowError(/no longer holds the task: it is done/);
    expect(dumpBoard(store)).toEqual(before);
  });
});

describe("the worker's own transitions", () => {
  it('complete: done, run completed, claim dropped, children released', () => {
    const store = testStore();
    const id = claimed(store);
    const child = createTask(store, { title: 'next', parents: [id.taskId] }).task.id;
    const task = completeRun(store, id, 'all green');
    expect(task).toMatchObject({ status: 'done', summary: 'all green', claim_lock: null, current_run_id: null, worker_pid: null });
    expect(runById(store, id.taskId, id.runId)).toMatchObject({ status: 'ended', outcome: 'completed', summary: 'all green' });
    expect(lastEvent(store, id.taskId)).toMatchObject({ kind: 'completed', payload: { source: 'worker', summary: 'all green' } });
    expect(getTask(store, child).status).toBe('ready');
  });

  it('block: a sticky block with the reason, run blocked', () => {
    const store = testStore();
    const id = claimed(store);
    expect(blockRun(store, id, 'needs review')).toMatchObject({ status: 'blocked', status_reason: 'needs review', claim_lock: null });
    expect(runById(store, id.taskId, id.runId)).toMatchObject({ status: 'ended', outcome: 'blocked' });
    expect(lastEvent(store, id.taskId)).toEqual({ kind: 'blocked', payload: { from: 'running', reason: 'needs review', source: 'worker', sticky: true } });
  });

  it('comment: a worker comment tied to the run', () => {
    const store = testStore();
    const id = claimed(store);
    commentFromRun(store, id, 'halfway');
    expect(showTask(store, id.taskId).comments).toMatchObject([{ author: 'worker', run_id: id.runId, body: 'halfway' }]);
  });
});

describe('recordExit', () => {
  it('0 after the worker completed: nothing more, but the exit code is kept on the run', () => {
    const store = testStore();
    const id = claimed(store);
    completeRun(store, id);
    const events = eventKinds(store, id.taskId);
    expect(recordExit(store, id, exitWith(0))).toMatchObject({ outcome: 'completed', alreadyClosed: true });
    expect(runById(store, id.taskId, id.runId)).toMatchObject({ outcome: 'completed', exit_code: 0 });
    expect(eventKinds(store, id.taskId)).toEqual(events);
  });

  it('0 without reporting is a protocol_violation, counted', () => {
    const store = testStore();
    const id = claimed(store);
    expect(recordExit(store, id, exitWith(0)).task).toMatchObject({ status: 'ready', consecutive_failures: 1, claim_lock: null });
    expect(runById(store, id.taskId, id.runId)).toMatchObject({ outcome: 'protocol_violation', exit_code: 0, error: 'exited 0 without completing or blocking the task' });
    expect(lastEvent(store, id.taskId)).toEqual({ kind: 'protocol_violation', payload: { exit_code: 0, signal: null, error: 'exited 0 without completing or blocking the task', failures: 1, limit: 2 } });
  });

  it("0 completes the task when the profile says on_clean_exit: complete", () => {
    const store = testStore();
    const id = claimed(store);
    expect(recordExit(store, id, exitWith(0, { onCleanExit: 'complete' })).task).toMatchObject({ status: 'done' });
    expect(lastEvent(store, id.taskId)).toMatchObject({ kind: 'completed', payload: { source: 'clean_exit' } });
  });

  it('75 is rate_limited: back to ready, counter untouched, the cooldown end in the event', () => {
    const clock = manualClock();
    const store = testStore(clock);
    const id = claimed(store);
    forceTask(store, id.taskId, { consecutive_failures: 1 });
    expect(recordExit(store, id, exitWith(75)).task).toMatchObject({ status: 'ready', consecutive_failures: 1 });
    expect(lastEvent(store, id.taskId)).toEqual({ kind: 'rate_limited', payload: { exit_code: 75, signal: null, cooldown_until: clock.now() + 300_000, error: 'rate limited (exited 75)' } });
  });

  it('a signal is crashed, with the signal stored', () => {
    const store = testStore();
    const id = claimed(store);
    recordExit(store, id, exitWith(null, { signal: 'SIGKILL' }));
    expect(runById(store, id.taskId, id.runId)).toMatchObject({ outcome: 'crashed', exit_code: null, signal: 'SIGKILL', error: 'killed by SIGKILL' });
  });

  it('killed past its max runtime is timed_out, counted', () => {
    const store = testStore();
    const id = claimed(store);
    recordExit(store, id, exitWith(null, { signal: 'SIGTERM', timedOut: true }));
    expect(runById(store, id.taskId, id.runId)).toMatchObject({ outcome: 'timed_out', signal: 'SIGTERM' });
    expect(getTask(store, id.taskId).consecutive_failures).toBe(1);
  });

  it('trips the breaker at the board limit: blocked with gave_up', () => {
    const store = testStore();
    const id1 = claimed(store);
    recordExit(store, id1, exitWith(1));
    const claim = claimOrFail(store, id1.taskId, { profile: null, leaseMs: LEASE });
    const { task } = recordExit(store, claim.identity, exitWith(1));
    expect(task).toMatchObject({ status: 'blocked', consecutive_failures: 2, status_reason: 'gave up after 2 failures (last: crashed)' });
    expect(eventKinds(store, id1.taskId).slice(-2)).toEqual(['crashed', 'gave_up']);
    expect(lastEvent(store, id1.taskId)).toEqual({ kind: 'gave_up', payload: { failures: 2, limit: 2, limit_source: 'default', trigger: 'crashed' } });
  });

  it("the task's max_retries wins over the board limit", () => {
    const store = testStore();
    const id = claimed(store, 'fragile', { title: 'fragile', maxRetries: 1 });
    expect(recordExit(store, id, exitWith(3)).task).toMatchObject({ status: 'blocked' });
    expect(lastEvent(store, id.taskId).payload).toEqual({ failures: 1, limit: 1, limit_source: 'task', trigger: 'crashed' });
  });

  it('a blocked breaker is a block like any other: unblock resets the counter', () => {
    const store = testStore();
    const id = claimed(store, 'fragile', { title: 'fragile', maxRetries: 1 });
    recordExit(store, id, exitWith(3));
    expect(unblockTask(store, id.taskId)).toMatchObject({ status: 'ready', consecutive_failures: 0 });
    expect(() => blockTask(store, id.taskId)).not.toThrow();
  });

  it('a spawn failure is counted like a crash', () => {
    const store = testStore();
    const id = claimed(store);
    expect(recordFailedRun(store, id, 'spawn_failed', 'no such program', { limit: 2, limitSource: 'env' })).toMatchObject({ status: 'ready', consecutive_failures: 1 });
    expect(runById(store, id.taskId, id.runId)).toMatchObject({ outcome: 'spawn_failed', error: 'no such program' });
    expect(lastEvent(store, id.taskId)).toEqual({ kind: 'spawn_failed', payload: { error: 'no such program', failures: 1, limit: 2 } });
  });
});
