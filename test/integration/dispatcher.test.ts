import { spawn, spawnSync } from 'node:child_process';
import { parseConfig } from '../../src/config.js';
import { Killer } from '../../src/dispatcher/processes.js';
import { dispatchOnce } from '../../src/dispatcher/tick.js';
import { SqliteBoard } from '../../src/store/sqlite-board.js';

import { afterEach, describe, expect, it } from 'vitest';
import { unblockTask } from '../../src/store/lifecycle.js';
import { runsForTask } from '../../src/store/runs.js';
import { createTask, getTask, listTasks } from '../../src/store/tasks.js';
import type { RunRow } from '../../src/core/types.js';
import { fileHash, kanban } from '../helpers/cli.js';
import { startDispatcher, type RunningDispatcher } from '../helpers/dispatcher.js';
import { fixture, isAlive as alive } from '../helpers/processes.js';
import { eventsOf, waitFor, worker, workerBoard, type WorkerBoard } from '../helpers/workers.js';
import { claimOrFail, forceTask, forceRun, rowCount, integrityOk } from '../helpers/board.js';

const running: RunningDispatcher[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop()));
});

function dispatcher(board: WorkerBoard, env: Record<string, string> = {}): RunningDispatcher {
  const d = startDispatcher(board, env);
  running.push(d);
  return d;
}

const runs = (board: WorkerBoard, taskId: string): RunRow[] => runsForTask(board.store, taskId);

/**
 * Deadlines for what a dispatcher, its supervisors and workers get done: generous, since each step is
 * a process start on a machine that may be loaded. The product's bounds are asserted separately.
 */
const WAIT_MS = 30_000;
const TEST_MS = 90_000;

describe('the dispatcher', { timeout: TEST_MS }, () => {
  it('1a. a worker killed with SIGKILL: the task runs again under a new run, no human step', async () => {
    const board = workerBoard({ hang: { command: worker('hang') } });
    const { task } = createTask(board.store, { title: 'fragile', assignee: 'hang' });
    dispatcher(board);
    const pid = await waitFor('the first worker', () => getTask(board.store, task.id).worker_pid);
    process.kill(pid, 'SIGKILL');
    await waitFor('a second run', () => runs(board, task.id).length >= 2 && getTask(board.store, task.id).worker_pid !== null);
    const [first, second] = runs(board, task.id);
    // Ended as its worker's death (crashed, SIGKILL), not left to its lease: the product's bound, whatever the machine's speed.
    expect(first).toMatchObject({ status: 'ended', outcome: 'crashed', signal: 'SIGKILL' });
    expect(second).toMatchObject({ status: 'running' });
    expect(getTask(board.store, task.id)).toMatchObject({ status: 'running', current_run_id: second!.id, consecutive_failures: 1 });
  });

  it('1b. a supervisor killed with SIGKILL: reaped as crashed, its worker stopped, the task runs again', async () => {
    const board = workerBoard({ hang: { command: worker('hang') } });
    const { task } = createTask(board.store, { title: 'orphaned', assignee: 'hang' });
    dispatcher(board, { KANBAN_CRASH_GRACE_SECONDS: '1' });
    const workerPid = await waitFor('the first worker', () => getTask(board.store, task.id).worker_pid);
    const supervisorPid = runs(board, task.id)[0]!.supervisor_pid!;
    process.kill(supervisorPid, 'SIGKILL');
    await waitFor('a second run', () => runs(board, task.id).length >= 2, WAIT_MS);
    // Reaped as its supervisor's death, not left to its lease: the product's bound, whatever the machine's speed.
    expect(runs(board, task.id)[0]).toMatchObject({ outcome: 'crashed', error: `crashed: its supervisor ${supervisorPid} is gone` });
    await waitFor('the orphaned worker to be stopped', () => !alive(workerPid), WAIT_MS);
  });

  it('2. heartbeating and printing workers keep their tasks for 3× the TTL; a silent one is reclaimed once stale', async () => {
    const board = workerBoard({
      beater: { command: worker('heartbeat', '750', '9000') },
      chatty: { command: worker('chatty', '750', '9000') },
      silent: { command: worker('hang') },
    });
    const beater = createTask(board.store, { title: 'beater', assignee: 'beater' }).task.id;
    const chatty = createTask(board.store, { title: 'chatty', assignee: 'chatty' }).task.id;
    const silent = createTask(board.store, { title: 'silent', assignee: 'silent' }).task.id;
    dispatcher(board, { KANBAN_HEARTBEAT_MAX_STALE_SECONDS: '5' });
    const silentPid = await waitFor('the silent worker', () => getTask(board.store, silent).worker_pid);
    const reclaimed = await waitFor('the silent task to be reclaimed', () => eventsOf(board, silent, 'reclaimed')[0], 15_000);
    expect(reclaimed.payload).toMatchObject({ heartbeat_stale: true, host_local: true, supervisor_alive: true, worker_pid: silentPid });
    expect(eventsOf(board, silent, 'claim_extended').length).toBeGreaterThanOrEqual(1); // extended while it was only quiet
    await waitFor('the silent worker to be stopped', () => !alive(silentPid), 7000);
    await waitFor('both long runs to finish', () => getTask(board.store, beater).status === 'done' && getTask(board.store, chatty).status === 'done', 20_000);
    for (const id of [beater, chatty]) {
      expect(runs(board, id).map((r) => r.outcome)).toEqual(['completed']);
      expect(eventsOf(board, id, 'reclaimed')).toEqual([]);
    }
  });

  it('3. exit 75: ready with the counter at 0, not respawned before the cooldown, respawned after', async () => {
    const board = workerBoard({ limited: { command: worker('exit', '75') } }, { KANBAN_RATE_LIMIT_COOLDOWN_SECONDS: '2' });
    const { task } = createTask(board.store, { title: 'quota', assignee: 'limited' });
    dispatcher(board);
    await waitFor('a second run', () => runs(board, task.id).length >= 2, WAIT_MS);
    const [first, second] = runs(board, task.id);
    expect(first).toMatchObject({ outcome: 'rate_limited', exit_code: 75 });
    expect(second!.started_at - first!.ended_at!).toBeGreaterThanOrEqual(2000);
    expect(getTask(board.store, task.id).consecutive_failures).toBe(0);
    const guards = eventsOf(board, task.id, 'respawn_guarded').filter((e) => e.run_id === first!.id);
    expect(guards).toHaveLength(1); // said once per cooldown, not on every tick
    expect(guards[0]!.payload).toMatchObject({ reason: 'rate_limited' });
    // The guard counts the cooldown on the dispatcher's monotonic clock (step-proof), so the time it
    // reports is the cooldown's end give or take the tick's own delay, not to the millisecond.
    const cooldownUntil = eventsOf(board, task.id, 'rate_limited')[0]!.payload.cooldown_until as number;
    expect(Math.abs((guards[0]!.payload.clear_at as number) - cooldownUntil)).toBeLessThan(1000);
  });

  it('4. a worker that always fails: blocked with gave_up, still blocked ten ticks later, runs again after unblock', async () => {
    const board = workerBoard({ broken: { command: worker('exit', '1') } });
    const { task } = createTask(board.store, { title: 'broken', assignee: 'broken' });
    dispatcher(board);
    await waitFor('the breaker', () => getTask(board.store, task.id).status === 'blocked', WAIT_MS);
    expect(eventsOf(board, task.id, 'gave_up')).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 10 * 200 + 500)); // ten ticks
    expect(getTask(board.store, task.id).status).toBe('blocked');
    expect(runs(board, task.id)).toHaveLength(2);
    unblockTask(board.store, task.id);
    await waitFor('a run after unblock', () => runs(board, task.id).length >= 3, 5000);
  });

  it('5. a worker that blocks its task: blocked across ticks until unblock', async () => {
    const board = workerBoard({ reviewer: { command: worker('report', 'block', 'needs review') } });
    const { task } = createTask(board.store, { title: 'review', assignee: 'reviewer' });
    const d = dispatcher(board);
    await waitFor('the block', () => getTask(board.store, task.id).status === 'blocked', WAIT_MS);
    const ticksBefore = d.ticks.length;
    await new Promise((resolve) => setTimeout(resolve, 10 * 200 + 500));
    expect(getTask(board.store, task.id)).toMatchObject({ status: 'blocked', status_reason: 'needs review' });
    expect(runs(board, task.id)).toHaveLength(1);
    expect(d.ticks.slice(ticksBefore).flatMap((t) => t.actions).filter((a) => a.task_id === task.id)).toEqual([]);
    unblockTask(board.store, task.id);
    await waitFor('a run after unblock', () => runs(board, task.id).length >= 2, 5000);
  });

  it('6. schedule --in 2s: not dispatched before, dispatched after', async () => {
    const board = workerBoard({ ok: { command: worker('report', 'complete') } });
    const { task } = createTask(board.store, { title: 'later', assignee: 'ok' });
    const scheduledAt = Date.now();
    expect(kanban(['--db', board.db, 'schedule', task.id, '--in', '2s']).code).toBe(0);
    dispatcher(board);
    await waitFor('the run', () => runs(board, task.id)[0], WAIT_MS);
    expect(runs(board, task.id)[0]!.started_at - scheduledAt).toBeGreaterThanOrEqual(2000);
    expect(eventsOf(board, task.id, 'unblocked')[0]!.payload).toMatchObject({ from: 'scheduled', to: 'ready', source: 'schedule' });
    await waitFor('done', () => getTask(board.store, task.id).status === 'done');
  });

  it('7. three dispatchers, 40 quick tasks: each done with exactly one completed run, no runs overlapping', async () => {
    const board = workerBoard({ quick: { command: ['true'], on_clean_exit: 'complete' } }, { KANBAN_MAX_IN_PROGRESS: '8' });
    const ids = board.store.writeTxn(() => Array.from({ length: 40 }, (_, i) => createTask(board.store, { title: `quick ${i}`, assignee: 'quick' }).task.id));
    const dispatchers = [dispatcher(board), dispatcher(board), dispatcher(board)];
    await waitFor('all 40 done', () => listTasks(board.store, { statuses: ['done'] }).length === 40, 180_000, 250);
    for (const id of ids) {
      const taskRuns = runs(board, id);
      expect(taskRuns.filter((r) => r.outcome === 'completed'), id).toHaveLength(1);
      const sorted = [...taskRuns].sort((a, b) => a.started_at - b.started_at);
      for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.started_at).toBeGreaterThanOrEqual(sorted[i - 1]!.ended_at!);
    }
    const spawnedBy = dispatchers.map((d) => d.ticks.flatMap((t) => t.actions).filter((a) => a.action === 'spawned').length);
    expect(spawnedBy.reduce((a, b) => a + b, 0)).toBe(rowCount(board.store, 'task_runs'));
    expect(integrityOk(board.store)).toBe(true);
  }, 240_000);

  it('8. restart: kill -9 the dispatcher while 4 workers run; a new one sees them through, one run each', async () => {
    const board = workerBoard({ chatty: { command: worker('chatty', '250', '4000') } });
    const ids = Array.from({ length: 4 }, (_, i) => createTask(board.store, { title: `long ${i}`, assignee: 'chatty' }).task.id);
    const first = dispatcher(board);
    await waitFor('4 workers', () => ids.every((id) => getTask(board.store, id).worker_pid !== null), WAIT_MS);
    first.child.kill('SIGKILL');
    dispatcher(board);
    await waitFor('all four done', () => ids.every((id) => getTask(board.store, id).status === 'done'), WAIT_MS);
    for (const id of ids) expect(runs(board, id).map((r) => r.outcome)).toEqual(['completed']);
  });

  it('9. --dry-run leaves the board file byte-for-byte unchanged, and says what it would do', async () => {
    const board = workerBoard({ ok: { command: worker('report', 'complete') } });
    // Created in the same millisecond, they would be queued by their random ids: the priority fixes the order.
    createTask(board.store, { title: 'ready to go', assignee: 'ok', priority: 1 });
    createTask(board.store, { title: 'no profile', assignee: 'ghost' });
    const parent = createTask(board.store, { title: 'parent', status: 'blocked' }).task.id;
    createTask(board.store, { title: 'child', parents: [parent] });
    forceTask(board.store, parent, { status: 'scheduled', scheduled_until: 1 });
    board.store.close();
    const before = fileHash(board.db);
    const result = kanban(['--db', board.db, 'dispatch', '--dry-run', '--json'], board.env);
    expect(result.code, result.stderr).toBe(0);
    expect(fileHash(board.db)).toBe(before);
    const actions = JSON.parse(result.stdout).actions.map((a: { action: string; step: string }) => `${a.step}:${a.action}`);
    expect(actions).toEqual(['schedule:released', 'spawn:spawned', 'spawn:skipped']);
  });

  it('stops on SIGINT with exit 0, leaving its workers running', async () => {
    const board = workerBoard({ chatty: { command: worker('chatty', '200', '3000') } });
    const { task } = createTask(board.store, { title: 'survivor', assignee: 'chatty' });
    const d = dispatcher(board);
    const pid = await waitFor('the worker', () => getTask(board.store, task.id).worker_pid);
    expect(await d.stop()).toBe(0);
    expect(alive(pid)).toBe(true);
    await waitFor('the worker to finish on its own', () => getTask(board.store, task.id).status === 'done', WAIT_MS);
  });

  it('a board that cannot be opened at start: exit 4', () => {
    const result = spawnSync(process.execPath, [...kanbanArgs('/proc/version'), 'tui', '--no-ui'], { encoding: 'utf8' });
    expect(result.status).toBe(4);
    expect(result.stderr).toMatch(/^kanban: /);
  });
});

function kanbanArgs(db: string): string[] {
  return [new URL('../../bin/kanban.js', import.meta.url).pathname, '--db', db];
}

describe('a dispatcher started with --config', { timeout: TEST_MS }, () => {
  it('gives its supervisors the same config (a flag is not inherited like the environment)', async () => {
    const board = workerBoard({ ok: { command: worker('report', 'complete') } });
    const { task } = createTask(board.store, { title: 'configured by flag', assignee: 'ok' });
    const { KANBAN_CONFIG: config, ...env } = board.env;
    const result = spawnSync(process.execPath, [new URL('../../bin/kanban.js', import.meta.url).pathname, '--db', board.db, '--config', config!, 'dispatch'], { env, encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    await waitFor('done', () => getTask(board.store, task.id).status === 'done', WAIT_MS);
  });
});

describe('a worker whose pid was never recorded', { timeout: TEST_MS }, () => {
  it('is found by the identity in its environment and stopped when its run is reaped', async () => {
    const board = workerBoard({ hang: { command: worker('hang') } });
    const { task } = createTask(board.store, { title: 'lost worker', assignee: 'hang' });
    const claim = claimOrFail(board.store, task.id, { profile: 'hang', leaseMs: 600_000 });
    // As if its supervisor had started it and died before writing its pid down.
    const orphan = spawn(process.execPath, [fixture('workers/hang.mjs')], {
      env: { ...process.env, KANBAN_TASK: task.id, KANBAN_RUN_ID: String(claim.identity.runId) },
      detached: true,
      stdio: 'ignore',
    });
    const bystander = spawn(process.execPath, [fixture('workers/hang.mjs')], { env: { ...process.env, KANBAN_TASK: task.id, KANBAN_RUN_ID: '999' }, detached: true, stdio: 'ignore' });
    const deadSupervisor = spawnSync(process.execPath, ['-e', 'process.pid']).pid!;
    forceRun(board.store, claim.identity.runId, { supervisor_pid: deadSupervisor });
    try {
      const killer = new Killer(500);
      const later = { now: () => Date.now() + 60_000 }; // past the crash grace
      const result = await dispatchOnce(new SqliteBoard(board.store), parseConfig('{}', 'c.yaml'), later, { killer, launch: () => 0 });
      expect(result.actions).toContainEqual(expect.objectContaining({ step: 'reap', action: 'crashed', task_id: task.id }));
      await killer.settle();
      await waitFor('the orphan to be stopped', () => !alive(orphan.pid!), 5000);
      expect(alive(bystander.pid!)).toBe(true); // another run's process is left alone
    } finally {
      bystander.kill('SIGKILL');
      orphan.kill('SIGKILL');
    }
  });
});
