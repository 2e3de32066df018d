import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { judgeRunningTask } from '../../../src/dispatcher/judge.js';
import { takeBack } from '../../../src/dispatcher/steps/leases.js';
import { dispatchOnce, tickContext, type TickOptions } from '../../../src/dispatcher/tick.js';
import { Killer } from '../../../src/dispatcher/processes.js';
import { resolveSettings } from '../../../src/settings.js';
import { heartbeat, recordExit } from '../../../src/store/lease.js';
import type { RunIdentity } from '../../../src/core/run.js';
import { blockTask, scheduleTask } from '../../../src/store/lifecycle.js';
import { runById, runsForTask } from '../../../src/store/runs.js';
import { createTask, editTask, getTask, listTasks } from '../../../src/store/tasks.js';
import type { Store } from '../../../src/store/db.js';
import { dumpBoard, eventKinds, lastEvent, manualClock, testStore, type ManualClock, claimOrFail, forceTask, forceRun } from '../../helpers/board.js';
import { spawn } from 'node:child_process';
import { thisHost } from '../../../src/host.js';
import { SqliteBoard } from '../../../src/store/sqlite-board.js';
import type { BoardStore } from '../../../src/port/board.js';
import { Elapsed } from '../../../src/elapsed.js';
import { eventsForTask } from '../../../src/store/events.js';
import { holdWriteLock, failUpdates } from '../../helpers/sqlite-hooks.js';

/**
 * The tick's decisions with the clock moved instead of slept. Process liveness and launching are
 * given to the tick here (which pids count as alive, a launcher that records calls); the real ones
 * are exercised by test/integration/dispatcher.test.ts.
 */
const config = parseConfig(
  JSON.stringify({ profiles: { coder: { command: ['agent'] }, solo: { command: ['agent'], max_in_progress: 1 } }, default_assignee: 'coder' }),
  'test.yaml',
);
const SECOND = 1000;
const env = {
  KANBAN_CLAIM_TTL_SECONDS: '60',
  KANBAN_HEARTBEAT_MAX_STALE_SECONDS: '300',
  KANBAN_CRASH_GRACE_SECONDS: '30',
  KANBAN_STALE_TIMEOUT_SECONDS: '3600',
  KANBAN_RATE_LIMIT_COOLDOWN_SECONDS: '120',
  KANBAN_MAX_IN_PROGRESS: '3',
};

function world(store: Store, clock: ManualClock) {
  const alive = new Set<number>();
  const launched: RunIdentity[] = [];
  let nextPid = 50_000;
  const options = (more: TickOptions = {}): TickOptions => ({
    settings: resolveSettings(config, env),
    host: thisHost().id,
    killer: new Killer(0),
    isRunProcess: (pid) => pid !== null && alive.has(pid),
    launch: (identity) => {
      launched.push(identity);
      const pid = nextPid++;
      alive.add(pid);
      return pid;
    },
    ...more,
  });
  const board = new SqliteBoard(store);
  const tick = (more: TickOptions = {}, on: BoardStore = board) => dispatchOnce(on, config, clock, options(more));
  const actions = async (more: TickOptions = {}) => (await tick(more)).actions.map((a) => `${a.step}:${a.action}:${a.task_id}`);
  return { alive, launched, board, tick, actions };
}

/** The run's supervisor, alive as far as the tick can tell. */
function liveSupervisor(store: Store, alive: Set<number>, runId: number): void {
  forceRun(store, runId, { supervisor_pid: 777 });
  alive.add(777);
}

/** `board`, but `between` runs to its end once the first claim has been made through it (and before the claim's supervisor is recorded). */
function midTick(board: BoardStore, between: () => Promise<unknown>): BoardStore {
  let raced = false;
  const lease = {
    ...board.lease,
    attachSupervisor: async (...args: Parameters<BoardStore['lease']['attachSupervisor']>) => {
      if (!raced) {
        raced = true;
        await between();
      }
      return board.lease.attachSupervisor(...args);
    },
  };
  return Object.assign(Object.create(board) as BoardStore, { lease });
}

function reclaimedEvent(store: Store, taskId: string): Record<string, unknown> {
  return eventsForTask(store, taskId).find((e) => e.kind === 'reclaimed')!.payload;
}

function setup() {
  const clock = manualClock();
  const store = testStore(clock);
  return { clock, store, ...world(store, clock) };
}

describe('spawn', () => {
  it('claims ready tasks by priority then age, within the board cap, and starts their supervisors', async () => {
    const { store, clock, launched, actions } = setup();
    const low = createTask(store, { title: 'low', assignee: 'coder' }).task.id;
    clock.advance(1);
    const high = createTask(store, { title: 'high', assignee: 'coder', priority: 5 }).task.id;
    clock.advance(1);
    const low2 = createTask(store, { title: 'low 2', assignee: 'coder' }).task.id;
    clock.advance(1);
    const over = createTask(store, { title: 'over the cap', assignee: 'coder' }).task.id;
    expect(await actions()).toEqual([`spawn:spawned:${high}`, `spawn:spawned:${low}`, `spawn:spawned:${low2}`]);
    expect(launched.map((i) => i.taskId)).toEqual([high, low, low2]);
    expect(getTask(store, over).status).toBe('ready');
    expect(runById(store, high, launched[0]!.runId)!.supervisor_pid).toBe(50_000);
  });

  it('gives an unassigned task the default assignee, and skips what it cannot run, saying why', async () => {
    const { store, clock, tick } = setup();
    const unassigned = createTask(store, { title: 'anyone' }).task.id;
    clock.advance(1);
    const ghost = createTask(store, { title: 'ghost', assignee: 'ghost' }).task.id;
    const result = await tick();
    expect(result.actions).toEqual([
      expect.objectContaining({ action: 'spawned', task_id: unassigned, detail: expect.stringMatching(/^coder, supervisor/) }),
      { step: 'spawn', action: 'skipped', task_id: ghost, detail: "no profile named 'ghost'" },
    ]);
    expect(eventKinds(store, unassigned)).toEqual(['created', 'assigned', 'claimed']);
  });

  it('a task of a capped profile waits for the window, not behind it: one that cannot start leaves its slot to the next', async () => {
    const { store, clock, actions } = setup();
    const parent = createTask(store, { title: 'parent' }).task.id;
    clock.advance(1);
    const waiting = createTask(store, { title: 'waits on its parent', assignee: 'solo', parents: [parent] }).task.id;
    forceTask(store, waiting, { status: 'ready' }); // made ready behind the dispatcher's back: the claim sends it back
    clock.advance(1);
    const next = createTask(store, { title: 'next', assignee: 'solo' }).task.id;
    clock.advance(1);
    const after = createTask(store, { title: 'after', assignee: 'solo' }).task.id;
    expect(await actions()).toEqual([`spawn:spawned:${parent}`, `spawn:demoted:${waiting}`, `spawn:spawned:${next}`, `spawn:skipped:${after}`]);
  });

  it('passes over the tasks another dispatcher took since the queue was read, in one claim: the next one starts', async () => {
    const { store, clock, tick, board } = setup();
    const ids: string[] = [];
    for (const title of ['first', 'second', 'third', 'fourth']) {
      ids.push(createTask(store, { title, assignee: 'coder' }).task.id);
      clock.advance(1);
    }
    const queue = await board.dispatch.readyQueue(10); // what this dispatcher read, before the other claimed
    for (const id of ids.slice(0, 3)) claimOrFail(store, id, { profile: 'coder', leaseMs: 60 * SECOND });
    const calls: number[] = [];
    const stale: BoardStore = Object.assign(Object.create(board) as BoardStore, {
      dispatch: { ...board.dispatch, readyQueue: async () => queue },
      lease: { ...board.lease, claimFirst: (...args: Parameters<BoardStore['lease']['claimFirst']>) => (calls.push(args[0].length), board.lease.claimFirst(...args)) },
    });
    const result = await tick({ settings: resolveSettings(config, { ...env, KANBAN_MAX_IN_PROGRESS: '10' }) }, stale);
    expect(result.actions.map((a) => `${a.action}:${a.task_id}`)).toEqual([`spawned:${ids[3]}`]);
    expect(calls).toEqual([4]); // one call, not one for each task lost
    expect(runsForTask(store, ids[3]!)).toHaveLength(1);
  });

  it('keeps a profile within its own cap, counting what already runs', async () => {
    const { store, clock, actions } = setup();
    const a = createTask(store, { title: 'a', assignee: 'solo' }).task.id;
    clock.advance(1);
    const b = createTask(store, { title: 'b', assignee: 'solo' }).task.id;
    expect(await actions()).toEqual([`spawn:spawned:${a}`, `spawn:skipped:${b}`]);
    expect(await actions()).toEqual([`spawn:skipped:${b}`]);
  });

  it('keeps the board cap when another dispatcher claims in the middle of its tick: the cap is counted in the claim', async () => {
    const { store, clock, launched, board, tick } = setup();
    const other = SqliteBoard.open(store.path, { clock }); // a second dispatcher: its own connection to the same file
    const ids = Array.from({ length: 6 }, (_, i) => (clock.advance(1), createTask(store, { title: `t${i}`, assignee: 'coder' }).task.id));
    // Once this tick has claimed its first task, the other dispatcher runs a whole tick of its own.
    const racing = midTick(board, () => dispatchOnce(other, config, clock, { settings: resolveSettings(config, env), host: thisHost().id, killer: new Killer(0), isRunProcess: () => true, launch: () => 60_000 + launched.length }));
    const result = await tick({}, racing);
    await other.close();
    const running = listTasks(store, { statuses: ['running'] }).length;
    expect(running).toBe(3); // KANBAN_MAX_IN_PROGRESS, not 3 + what the other one started
    expect(result.actions.filter((a) => a.action === 'spawned')).toHaveLength(1);
    expect(ids.filter((id) => getTask(store, id).status === 'ready')).toHaveLength(3);
  });

  it('keeps a profile cap when another dispatcher claims for that profile in the middle of its tick', async () => {
    const { store, clock, board, tick } = setup();
    const other = SqliteBoard.open(store.path, { clock });
    createTask(store, { title: 'first', assignee: 'coder', priority: 5 });
    const ids = Array.from({ length: 3 }, (_, i) => (clock.advance(1), createTask(store, { title: `s${i}`, assignee: 'solo' }).task.id));
    // Once this tick has claimed the coder task (it read 0 solo running), the other dispatcher claims a solo task.
    await tick({}, midTick(board, () => dispatchOnce(other, config, clock, { settings: resolveSettings(config, env), host: thisHost().id, killer: new Killer(0), isRunProcess: () => true, launch: () => 60_001 })));
    await other.close();
    const solo = listTasks(store, { statuses: ['running'], assignee: 'solo' }).length;
    expect(solo).toBe(1);
    expect(ids.map((id) => getTask(store, id).status).sort()).toEqual(['ready', 'ready', 'running']);
  });

  it('holds a rate-limited task until its cooldown ends, saying so once', async () => {
    const { store, clock, actions } = setup();
    const id = createTask(store, { title: 'quota', assignee: 'coder' }).task.id;
    await actions();
    const run = getTask(store, id);
    recordExit(store, { taskId: id, runId: run.current_run_id!, claimLock: run.claim_lock! }, {
      exitCode: 75, signal: null, onCleanExit: 'violation', failures: { limit: 2, limitSource: 'default' }, rateLimitCooldownMs: 120 * SECOND,
    });
    expect(await actions()).toEqual([`spawn:guarded:${id}`]);
    expect(await actions()).toEqual([`spawn:guarded:${id}`]);
    expect(eventKinds(store, id).filter((k) => k === 'respawn_guarded')).toHaveLength(1);
    clock.advance(120 * SECOND);
    expect(await actions()).toEqual([`spawn:spawned:${id}`]);
  });

  it('a dry run decides the same and writes nothing', async () => {
    const { store, launched, actions } = setup();
    createTask(store, { title: 'a', assignee: 'coder' });
    createTask(store, { title: 'b' });
    const before = dumpBoard(store);
    expect(await actions({ dryRun: true })).toHaveLength(2);
    expect(launched).toEqual([]);
    expect(dumpBoard(store)).toEqual(before);
  });
});

describe('leases', () => {
  function claimed(store: Store, title = 'work') {
    const { task } = createTask(store, { title, assignee: 'coder' });
    const claim = claimOrFail(store, task.id, { profile: 'coder', leaseMs: 60 * SECOND });
    return claim;
  }

  it('extends an expired lease whose supervisor is alive and was heard from recently', async () => {
    const { store, clock, alive, actions } = setup();
    const { identity } = claimed(store);
    liveSupervisor(store, alive, identity.runId);
    clock.advance(61 * SECOND);
    expect(await actions()).toEqual([`leases:extended:${identity.taskId}`]);
    expect(getTask(store, identity.taskId)).toMatchObject({ status: 'running', claim_expires: clock.now() + 60 * SECOND });
    expect(lastEvent(store, identity.taskId).kind).toBe('claim_extended');
  });

  it('reclaims an expired lease whose supervisor is alive but silent for MAX_STALE: heartbeat_stale, counted', async () => {
    const { store, clock, alive, tick } = setup();
    const { identity } = claimed(store);
    liveSupervisor(store, alive, identity.runId);
    clock.advance(301 * SECOND);
    const result = await tick();
    expect(result.actions[0]).toMatchObject({ step: 'leases', action: 'reclaimed', task_id: identity.taskId, detail: 'lease expired, silent for 301s' });
    expect(reclaimedEvent(store, identity.taskId)).toEqual({
      claim_expires: clock.now() - 241 * SECOND,
      last_heartbeat_at: null,
      worker_pid: null,
      heartbeat_stale: true,
      host_local: true,
      supervisor_alive: true,
      detail: 'lease expired, silent for 301s',
      failures: 1,
      limit: 2,
    });
    expect(runById(store, identity.taskId, identity.runId)).toMatchObject({ outcome: 'reclaimed', error: 'taken back: reclaimed (lease expired, silent for 301s)' });
    expect(getTask(store, identity.taskId)).toMatchObject({ consecutive_failures: 1 });
  });

  it('a worker that goes silent on every run trips the breaker: no loop escapes it', async () => {
    const { store, clock, alive, tick } = setup();
    const { identity } = claimed(store);
    liveSupervisor(store, alive, identity.runId);
    clock.advance(301 * SECOND);
    await tick(); // taken back (1 of 2), and started again in the same tick
    const second = getTask(store, identity.taskId);
    expect(second).toMatchObject({ status: 'running', consecutive_failures: 1 });
    liveSupervisor(store, alive, second.current_run_id!);
    clock.advance(301 * SECOND);
    await tick();
    expect(getTask(store, identity.taskId)).toMatchObject({ status: 'blocked', consecutive_failures: 2 });
    expect(lastEvent(store, identity.taskId)).toMatchObject({ kind: 'gave_up', payload: { trigger: 'reclaimed', failures: 2, limit: 2 } });
  });

  it('reclaims an expired lease claimed on another host, which it cannot check: counted', async () => {
    const { store, clock, actions } = setup();
    const { identity } = claimed(store);
    forceTask(store, identity.taskId, { claim_lock: 'elsewhere:1:ab' });
    forceRun(store, identity.runId, { claim_lock: 'elsewhere:1:ab', supervisor_pid: 4, worker_pid: 5 });
    clock.advance(61 * SECOND);
    expect(await actions()).toContain(`leases:reclaimed:${identity.taskId}`);
    expect(reclaimedEvent(store, identity.taskId)).toMatchObject({ host_local: false, supervisor_alive: false, failures: 1 });
    expect(reclaimedEvent(store, identity.taskId)).not.toHaveProperty('never_launched');
    expect(getTask(store, identity.taskId).consecutive_failures).toBe(1);
  });

  it('an expired lease on another host whose supervisor never started its worker (a start slower than the lease): reclaimed, not counted', async () => {
    const { store, clock, actions } = setup();
    const { identity } = claimed(store);
    forceTask(store, identity.taskId, { claim_lock: 'elsewhere:1:ab' });
    forceRun(store, identity.runId, { claim_lock: 'elsewhere:1:ab', supervisor_pid: 4 });
    clock.advance(61 * SECOND);
    expect(await actions()).toContain(`leases:reclaimed:${identity.taskId}`);
    expect(reclaimedEvent(store, identity.taskId)).toMatchObject({ never_launched: true, detail: 'lease expired, no worker was started' });
    expect(reclaimedEvent(store, identity.taskId)).not.toHaveProperty('failures');
    expect(getTask(store, identity.taskId).consecutive_failures).toBe(0);
  });

  it('a live supervisor of this host stuck before starting its worker, silent past its lease: reclaimed and counted (it would loop forever otherwise)', async () => {
    const { store, clock, alive, actions } = setup();
    const { identity } = claimed(store);
    liveSupervisor(store, alive, identity.runId); // no worker recorded
    clock.advance(301 * SECOND);
    expect(await actions()).toContain(`leases:reclaimed:${identity.taskId}`);
    expect(reclaimedEvent(store, identity.taskId)).toMatchObject({ failures: 1 });
    expect(reclaimedEvent(store, identity.taskId)).not.toHaveProperty('never_launched');
  });

  it('an expired lease on another host whose run was never launched (its claimer died first): reclaimed, not counted', async () => {
    const { store, clock, actions } = setup();
    const { identity } = claimed(store);
    forceTask(store, identity.taskId, { claim_lock: 'elsewhere:1:ab' });
    forceRun(store, identity.runId, { claim_lock: 'elsewhere:1:ab' });
    clock.advance(61 * SECOND);
    expect(await actions()).toContain(`leases:reclaimed:${identity.taskId}`);
    expect(reclaimedEvent(store, identity.taskId)).toMatchObject({ host_local: false, never_launched: true, detail: 'lease expired, its supervisor never started' });
    expect(reclaimedEvent(store, identity.taskId)).not.toHaveProperty('failures');
    expect(runsForTask(store, identity.taskId)[0]).toMatchObject({ outcome: 'reclaimed' });
    expect(getTask(store, identity.taskId)).toMatchObject({ status: 'running', consecutive_failures: 0 }); // started again in the same tick
  });

  it('leaves a lease that has not expired alone', async () => {
    const { store, clock, alive, actions } = setup();
    const { identity } = claimed(store);
    liveSupervisor(store, alive, identity.runId);
    clock.advance(59 * SECOND);
    expect(await actions()).toEqual([]);
  });

  it('a heartbeat that lands between the judgement and the write wins', async () => {
    const { store, clock } = setup();
    const { identity } = claimed(store);
    clock.advance(301 * SECOND);
    const ctx = tickContext(new SqliteBoard(store), config, clock, { settings: resolveSettings(config, env), killer: new Killer(0), isRunProcess: () => true });
    const judgement = (await judgeRunningTask(ctx, getTask(store, identity.taskId)))!;
    expect(judgement.verdict).toBe('reclaim');
    const judgedExpires = getTask(store, identity.taskId).claim_expires;
    heartbeat(store, identity); // lands after the judgement, before the write
    const before = dumpBoard(store);
    await expect(takeBack(ctx, judgement, 'reclaimed', judgedExpires)).rejects.toThrowError(/heartbeat moved its lease/);
    expect(dumpBoard(store)).toEqual(before);
    expect(getTask(store, identity.taskId)).toMatchObject({ status: 'running', current_run_id: identity.runId });
  });

  it('takes back a run older than the stale timeout and silent for MAX_STALE even with a long lease, counted', async () => {
    const { store, clock, alive, actions } = setup();
    const { task } = createTask(store, { title: 'long lease', assignee: 'coder' });
    const claim = claimOrFail(store, task.id, { profile: 'coder', leaseMs: 10 * 3600 * SECOND });
    liveSupervisor(store, alive, claim.identity.runId);
    clock.advance(3601 * SECOND);
    expect((await actions())[0]).toBe(`stale:stale:${task.id}`);
    expect(runsForTask(store, task.id)[0]).toMatchObject({ outcome: 'stale' });
    expect(getTask(store, task.id).consecutive_failures).toBe(1);
  });
});

describe('reap', () => {
  it('closes a run whose supervisor is gone as crashed, counted, once past the crash grace', async () => {
    const { store, clock, actions } = setup();
    const { task } = createTask(store, { title: 'w', assignee: 'ghost-profile' });
    const claim = claimOrFail(store, task.id, { profile: 'x', leaseMs: 600 * SECOND });
    forceRun(store, claim.identity.runId, { supervisor_pid: 4, worker_pid: 5 });
    clock.advance(29 * SECOND);
    expect(await actions()).toEqual([]);
    clock.advance(2 * SECOND);
    expect((await actions())[0]).toBe(`reap:crashed:${task.id}`);
    expect(runsForTask(store, task.id)[0]).toMatchObject({ outcome: 'crashed', error: 'crashed: its supervisor 4 is gone' });
    expect(getTask(store, task.id)).toMatchObject({ consecutive_failures: 1 });
  });
});

describe('faults of the board or the machine are not the task\'s', () => {
  it('a run whose supervisor never started is closed spawn_failed, not counted, and held back a while', async () => {
    const { store, clock, actions } = setup();
    const { task } = createTask(store, { title: 'w', assignee: 'ghost-profile' });
    claimOrFail(store, task.id, { profile: 'x', leaseMs: 600 * SECOND });
    clock.advance(31 * SECOND);
    expect((await actions())[0]).toBe(`reap:spawn_failed:${task.id}`);
    expect(runsForTask(store, task.id)[0]).toMatchObject({ outcome: 'spawn_failed', error: 'not started: its supervisor never started' });
    expect(getTask(store, task.id)).toMatchObject({ status: 'ready', consecutive_failures: 0 });
    expect(lastEvent(store, task.id)).toMatchObject({ kind: 'spawn_failed', payload: { counted: false, cooldown_until: clock.now() + 30 * SECOND } });
  });

  it('a run another dispatcher claims after this tick began is not reaped as started "in the future" (long ago)', async () => {
    const { store, clock, board, tick } = setup();
    const { task } = createTask(store, { title: 'w', assignee: 'coder' });
    editTask(store, task.id, { assignee: 'elsewhere' }); // not this tick's to claim
    // The other dispatcher claims between this tick's start and its read of the open runs.
    const racing = Object.assign(Object.create(board) as BoardStore, {
      dispatch: {
        ...board.dispatch,
        openRuns: async () => {
          clock.advance(400);
          claimOrFail(store, task.id, { profile: 'elsewhere', leaseMs: 60 * SECOND });
          return board.dispatch.openRuns();
        },
      },
    });
    const result = await tick({}, racing);
    expect(result.actions.filter((a) => a.step === 'reap')).toEqual([]);
    expect(getTask(store, task.id)).toMatchObject({ status: 'running', consecutive_failures: 0 });
    expect(runsForTask(store, task.id)[0]).toMatchObject({ status: 'running', outcome: null });
  });

  it('a supervisor that died before starting its worker (it could not open the board or its log): spawn_failed, not counted', async () => {
    const { store, clock, actions } = setup();
    const { task } = createTask(store, { title: 'w', assignee: 'ghost-profile' });
    const claim = claimOrFail(store, task.id, { profile: 'x', leaseMs: 600 * SECOND });
    forceRun(store, claim.identity.runId, { supervisor_pid: 4 });
    clock.advance(31 * SECOND);
    expect((await actions())[0]).toBe(`reap:spawn_failed:${task.id}`);
    expect(runsForTask(store, task.id)[0]).toMatchObject({ outcome: 'spawn_failed', error: 'not started: its supervisor 4 is gone, no worker was started' });
    expect(getTask(store, task.id)).toMatchObject({ status: 'ready', consecutive_failures: 0 });
  });

  it('a supervisor that cannot be started for a read-only disk: not counted, the tick reports the fault, no more starts this tick', async () => {
    const { store, clock, tick } = setup();
    const ids = Array.from({ length: 3 }, (_, i) => (clock.advance(1), createTask(store, { title: `t${i}`, assignee: 'coder' }).task.id));
    const result = (await tick({
      launch: () => {
        throw Object.assign(new Error("EROFS: read-only file system, open '/board/logs/t.log'"), { code: 'EROFS' });
      },
    }));
    expect(result.actions.map((a) => a.action)).toEqual(['spawn_failed']);
    expect(result.fault).toMatch(/^read-only file system: cannot start the supervisor: EROFS/);
    expect(ids.map((id) => getTask(store, id).consecutive_failures)).toEqual([0, 0, 0]);
    expect(lastEvent(store, ids[0]!)).toMatchObject({ kind: 'spawn_failed', payload: { counted: false } });
    // Held back for the retry time, then started as usual.
    expect((await tick()).actions.filter((a) => a.action === 'spawned').map((a) => a.task_id)).toEqual([ids[1], ids[2]]);
    clock.advance(31 * SECOND);
    expect((await tick()).actions.filter((a) => a.action === 'spawned').map((a) => a.task_id)).toEqual([ids[0]]);
  });

  it('a hold written under a clock stepped forward lasts what it was set for, not the step', async () => {
    const { store, clock, tick } = setup();
    let mono = 0;
    const elapsed = new Elapsed(() => mono);
    const { task } = createTask(store, { title: 'w', assignee: 'coder' });
    claimOrFail(store, task.id, { profile: 'coder', leaseMs: 600 * SECOND });
    clock.advance(2 * 3600 * SECOND + 31 * SECOND); // the clock of the process that records the failed start is 2 h ahead
    (await tick({ elapsed: new Elapsed(() => mono) })); // reaped: never started, held 30 s (on the stepped clock)
    expect(runsForTask(store, task.id)[0]).toMatchObject({ outcome: 'spawn_failed' });
    clock.advance(-2 * 3600 * SECOND); // the clock is right again
    expect((await tick({ elapsed })).actions.filter((a) => a.task_id === task.id).map((a) => a.action)).toEqual(['guarded']);
    mono += 31 * SECOND;
    clock.advance(31 * SECOND);
    expect((await tick({ elapsed })).actions.filter((a) => a.task_id === task.id).map((a) => a.action)).toEqual(['spawned']);
  });

  it('a tick whose steps fail because the board is locked says so in its fault', async () => {
    const { store, clock } = setup();
    createTask(store, { title: 'x', assignee: 'coder' });
    const holder = holdWriteLock(store.path);
    const locked = SqliteBoard.open(store.path, { clock, busyTimeoutMs: 50, checkIntegrity: false });
    try {
      const result = await dispatchOnce(locked, config, clock, { settings: resolveSettings(config, env), host: thisHost().id, killer: new Killer(0), isRunProcess: () => false, launch: () => 1 });
      expect(result.fault).toMatch(/^board locked: board .* is locked by another process/);
    } finally {
      holder.release();
      await locked.close();
    }
  });

  it('an expired lease whose worker has ended while its supervisor lives is extended: the supervisor is recording the exit', async () => {
    const { store, clock, alive, tick } = setup();
    const { task } = createTask(store, { title: 'w', assignee: 'coder' });
    const claim = claimOrFail(store, task.id, { profile: 'coder', leaseMs: 60 * SECOND });
    liveSupervisor(store, alive, claim.identity.runId);
    forceRun(store, claim.identity.runId, { worker_pid: 4242 }); // 4242: not alive
    clock.advance(301 * SECOND); // heartbeat stale too
    expect((await tick()).actions[0]).toMatchObject({ action: 'extended', detail: 'lease expired, worker ended, its supervisor is recording the exit' });
    expect(getTask(store, task.id)).toMatchObject({ status: 'running', consecutive_failures: 0 });
    clock.advance(11 * 60 * SECOND); // past the supervisor's patience: taken back
    expect((await tick()).actions[0]).toMatchObject({ action: 'reclaimed' });
  });
});

describe('a wall clock that steps decides nothing', () => {
  /** A long-running dispatcher: one Elapsed for every tick, on a monotonic clock the test moves apart from the wall clock. */
  function longRunning() {
    const base = setup();
    let mono = 0;
    const elapsed = Elapsed.forLife(() => mono);
    const tick = (more: TickOptions = {}) => base.tick({ elapsed, ...more });
    return { ...base, tick, passes: (ms: number) => ((mono += ms), base.clock.advance(ms)) };
  }

  it('a forward step of 2 h does not take back a healthy run', async () => {
    const { store, clock, alive, tick, passes } = longRunning();
    const { task } = createTask(store, { title: 'w', assignee: 'coder' });
    const claim = claimOrFail(store, task.id, { profile: 'coder', leaseMs: 60 * SECOND });
    liveSupervisor(store, alive, claim.identity.runId);
    heartbeat(store, claim.identity);
    await tick();
    passes(10 * SECOND);
    await tick();
    clock.advance(2 * 3600 * SECOND); // the step: wall only
    passes(SECOND);
    expect((await tick()).actions.filter((a) => a.task_id === task.id)).toEqual([]);
    expect(getTask(store, task.id)).toMatchObject({ status: 'running', current_run_id: claim.identity.runId, consecutive_failures: 0 });
    passes(59 * SECOND); // the lease (60 s) is counted afresh from the step, which this dispatcher saw
    expect((await tick()).actions.filter((a) => a.task_id === task.id)).toEqual([]);
    passes(2 * SECOND); // past it: extended, the supervisor being alive and heard from
    expect((await tick()).actions.filter((a) => a.task_id === task.id).map((a) => a.action)).toEqual(['extended']);
  });

  it('a backward step of 10 min does not hide a hung run: its silence is counted on the monotonic clock', async () => {
    const { store, clock, alive, tick, passes } = longRunning();
    const { task } = createTask(store, { title: 'w', assignee: 'coder' });
    const claim = claimOrFail(store, task.id, { profile: 'coder', leaseMs: 60 * SECOND });
    liveSupervisor(store, alive, claim.identity.runId);
    heartbeat(store, claim.identity);
    clock.advance(-10 * 60 * SECOND); // the step
    await tick();
    passes(301 * SECOND); // silent for MAX_STALE (300 s) of real time; the wall clock says 299 s before the heartbeat
    expect((await tick()).actions.map((a) => `${a.step}:${a.action}`)[0]).toBe('leases:reclaimed');
  });

  it('after a step, a stamp first seen is of unknown age, not expired: a run another process just claimed is neither reaped nor silent', async () => {
    const { store, clock, alive, tick, passes } = longRunning();
    await tick();
    passes(SECOND);
    clock.advance(2 * 3600 * SECOND); // this dispatcher's clock steps; the writer's below does not
    passes(SECOND);
    await tick();
    const { task } = createTask(store, { title: 'w', assignee: 'ghost-profile' });
    const otherFrame = clock.now() - 2 * 3600 * SECOND;
    const claim = claimOrFail(store, task.id, { profile: 'x', leaseMs: 60 * SECOND });
    forceRun(store, claim.identity.runId, { started_at: otherFrame, supervisor_pid: 777 });
    forceTask(store, task.id, { started_at: otherFrame, last_heartbeat_at: otherFrame, claim_expires: otherFrame + 60 * SECOND });
    alive.add(777);
    expect((await tick()).actions.filter((a) => a.task_id === task.id)).toEqual([]);
    alive.delete(777); // its supervisor dies: reaped once the crash grace has passed on the monotonic clock
    expect((await tick()).actions.filter((a) => a.task_id === task.id)).toEqual([]);
    passes(31 * SECOND);
    expect((await tick()).actions.filter((a) => a.task_id === task.id).map((a) => a.action)[0]).toBe('spawn_failed');
  });

  it('an age first read in the stepped frame is not kept once the clock steps back: silence counts afresh from the step', async () => {
    const { store, clock, alive, tick, passes } = longRunning();
    await tick();
    passes(SECOND);
    clock.advance(2 * 3600 * SECOND); // forward: this dispatcher sees it
    passes(SECOND);
    await tick();
    const { task } = createTask(store, { title: 'w', assignee: 'coder' });
    const claim = claimOrFail(store, task.id, { profile: 'coder', leaseMs: 600 * SECOND });
    liveSupervisor(store, alive, claim.identity.runId);
    // A heartbeat written by a process the step had not reached yet: 2 h old, as read here.
    forceTask(store, task.id, { last_heartbeat_at: clock.now() - 2 * 3600 * SECOND });
    passes(SECOND);
    await tick();
    clock.advance(-2 * 3600 * SECOND); // and back: the 2 h read in the other frame is forgotten
    passes(SECOND);
    await tick();
    passes(299 * SECOND); // MAX_STALE (300 s) not yet reached since the step back
    expect((await tick()).actions.filter((a) => a.task_id === task.id)).toEqual([]);
    passes(2 * SECOND);
    expect((await tick()).actions.filter((a) => a.task_id === task.id).map((a) => a.action)[0]).toBe('stale');
  });

  it('a dispatcher started after a forward step of 2 h: a healthy run, first seen 2 h old, is extended, not taken back; a silent one is, once watched', async () => {
    const { store, clock, alive, tick, passes } = longRunning();
    const claims = ['healthy', 'silent'].map((title) => {
      const { task } = createTask(store, { title, assignee: 'coder' });
      const claim = claimOrFail(store, task.id, { profile: 'coder', leaseMs: 60 * SECOND });
      liveSupervisor(store, alive, claim.identity.runId);
      heartbeat(store, claim.identity);
      return claim.identity;
    });
    clock.advance(2 * 3600 * SECOND); // the step came before this dispatcher's first tick: it cannot see it
    const first = (await tick()).actions;
    expect(first.filter((a) => a.action === 'reclaimed')).toEqual([]);
    expect(first.filter((a) => a.action === 'extended').map((a) => a.task_id).sort()).toEqual(claims.map((c) => c.taskId).sort());
    passes(30 * SECOND);
    heartbeat(store, claims[0]!); // the healthy worker is heard from again, in the new frame
    passes(31 * SECOND); // past the output bridge (60 s), the silent one has been watched long enough
    const later = (await tick()).actions.filter((a) => a.action === 'reclaimed').map((a) => a.task_id);
    expect(later).toEqual([claims[1]!.taskId]);
    expect(getTask(store, claims[0]!.taskId)).toMatchObject({ status: 'running', current_run_id: claims[0]!.runId });
    // A one-tick dispatcher (`kanban dispatch`) has only the wall clock: it judges at once.
    expect(new Elapsed().watchedFor('anything', 60 * SECOND)).toBe(true);
  });

  it('a backward step of 10 min does not hide a run whose supervisor died: it is reaped', async () => {
    const { store, clock, tick } = longRunning();
    const { task } = createTask(store, { title: 'w', assignee: 'ghost-profile' });
    const claim = claimOrFail(store, task.id, { profile: 'x', leaseMs: 600 * SECOND });
    forceRun(store, claim.identity.runId, { supervisor_pid: 4, worker_pid: 5 });
    clock.advance(-10 * 60 * SECOND);
    expect((await tick()).actions.map((a) => `${a.step}:${a.action}`)[0]).toBe('reap:crashed');
  });
});

describe('release and recovery', () => {
  it('releases a due schedule with an unblocked event, source schedule', async () => {
    const { store, clock, actions } = setup();
    const id = createTask(store, { title: 'later', assignee: 'ghost' }).task.id;
    scheduleTask(store, id, clock.now() + 10 * SECOND);
    clock.advance(9 * SECOND);
    expect(await actions()).toEqual([]);
    clock.advance(SECOND);
    expect(await actions()).toContain(`schedule:released:${id}`);
    expect(eventKinds(store, id)).toContain('unblocked');
  });

  it('promotes a todo whose parents are finished', async () => {
    const { store, actions } = setup();
    const parent = createTask(store, { title: 'p', assignee: 'ghost' }).task.id;
    const child = createTask(store, { title: 'c', assignee: 'ghost', parents: [parent] }).task.id;
    forceTask(store, parent, { status: 'done' }); // finished without the usual promotion
    expect(await actions()).toContain(`ready:promoted:${child}`);
  });

  it('never recovers a sticky block, nor a breaker block at its limit; recovers a breaker block once the limit is raised', async () => {
    const { store, actions } = setup();
    const sticky = createTask(store, { title: 'sticky', assignee: 'ghost' }).task.id;
    blockTask(store, sticky, 'by hand');
    const tripped = createTask(store, { title: 'tripped', assignee: 'ghost' }).task.id;
    for (let i = 0; i < 2; i++) {
      const claim = claimOrFail(store, tripped, { profile: 'x', leaseMs: 1000 });
      recordExit(store, claim.identity, { exitCode: 1, signal: null, onCleanExit: 'violation', failures: { limit: 2, limitSource: 'default' }, rateLimitCooldownMs: 0 });
    }
    expect(getTask(store, tripped).status).toBe('blocked');
    for (let i = 0; i < 10; i++) expect(await actions()).toEqual([]); // ghost profile: nothing to spawn, nothing to recover
    editTask(store, tripped, { maxRetries: 5 });
    expect(await actions()).toContain(`ready:recovered:${tripped}`);
    expect(getTask(store, tripped)).toMatchObject({ status: 'ready', consecutive_failures: 2 });
    expect(getTask(store, sticky).status).toBe('blocked');
  });
});

describe('a step that fails', () => {
  it('is reported, and the other steps still run', async () => {
    const { store, clock, tick } = setup();
    const id = createTask(store, { title: 'a', assignee: 'coder' }).task.id;
    const due = createTask(store, { title: 'due after the failures', assignee: 'ghost' }).task.id;
    scheduleTask(store, due, clock.now() + 10 * SECOND);
    const result = await tick({ launch: () => { throw new Error('fork failed'); } });
    expect(result.actions).toEqual([expect.objectContaining({ step: 'spawn', action: 'spawn_failed', task_id: id, detail: 'cannot start the supervisor: fork failed' })]);
    expect(getTask(store, id)).toMatchObject({ status: 'ready', consecutive_failures: 1 });
    failUpdates(store, 'task_runs', 'disk on fire');
    const claim = claimOrFail(store, id, { profile: 'coder', leaseMs: 1 });
    clock.advance(10 * SECOND);
    const broken = await tick({ isRunProcess: () => false, settings: resolveSettings(config, { ...env, KANBAN_CRASH_GRACE_SECONDS: '0' }) });
    expect(broken.errors.map((e) => e.step)).toContain('reap');
    expect(broken.errors.find((e) => e.step === 'reap')!.error).toBe('board error (SQLITE_CONSTRAINT_TRIGGER): disk on fire'); // the store's words for a failure of the board
    expect(broken.actions).toContainEqual(expect.objectContaining({ step: 'schedule', action: 'released', task_id: due })); // a later step ran
    expect(getTask(store, due).status).toBe('ready');
  });
});

describe('a run whose supervisor is not seen', () => {
  it('is not taken back by its expired lease within the crash grace (it may still be starting); the reaper judges it after', async () => {
    const { store, clock, tick } = setup();
    const { task } = createTask(store, { title: 'w', assignee: 'coder' });
    const claim = claimOrFail(store, task.id, { profile: 'coder', leaseMs: 500 });
    forceRun(store, claim.identity.runId, { supervisor_pid: 4242 }); // not alive
    clock.advance(SECOND); // the lease (0.5 s) has run out; the crash grace (30 s) has not
    expect((await tick()).actions.filter((a) => a.task_id === task.id)).toEqual([]);
    clock.advance(30 * SECOND);
    expect((await tick()).actions.filter((a) => a.task_id === task.id).map((a) => `${a.step}:${a.action}`)[0]).toBe('reap:spawn_failed');
    expect(getTask(store, task.id).consecutive_failures).toBe(0);
  });
});

describe('what an ended run left behind', () => {
  it('a process still carrying the run identity after its container is gone is stopped by the sweep, at most every 10 s', async () => {
    const { store, clock, alive, launched, tick } = setup();
    const { task } = createTask(store, { title: 'w', assignee: 'coder' });
    await tick(); // spawned: its supervisor is 50000
    const { runId } = launched[0]!;
    forceRun(store, runId, { worker_pid: 60000 });
    alive.delete(50_000); // the supervisor and its container are killed: the run is reaped
    clock.advance(31 * SECOND);
    expect((await tick()).actions.map((a) => a.action)).toContain('crashed');
    // A child that ignores SIGTERM outlived the dispatcher that reaped the run (before it could SIGKILL it).
    const leftover = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1 << 30)"], {
      env: { ...process.env, KANBAN_TASK: task.id, KANBAN_RUN_ID: String(runId) },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    await new Promise((resolve) => leftover.stdout!.once('data', resolve));
    const gone = new Promise((resolve) => leftover.once('exit', (_code, signal) => resolve(signal)));
    clock.advance(61 * SECOND); // past ORPHAN_AFTER_MS
    const killer = new Killer(0);
    const swept = (await tick({ killer })).actions.filter((a) => a.action === 'killed_orphan');
    expect(swept).toEqual([expect.objectContaining({ task_id: task.id, run_id: runId, detail: expect.stringMatching(new RegExp(`^process ${leftover.pid} still alive 61s after its run ended$`)) })]);
    expect(await gone).toBe('SIGKILL');
    expect(eventKinds(store, task.id)).toContain('worker_killed');
    expect((await tick({ killer })).actions.filter((a) => a.action === 'killed_orphan')).toEqual([]); // the next sweep is 10 s away
  });
});
