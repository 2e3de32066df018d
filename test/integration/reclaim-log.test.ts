import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

import { runsForTask } from '../../src/store/runs.js';
import { createTask, getTask } from '../../src/store/tasks.js';
import { kanban, KANBAN_BIN } from '../helpers/cli.js';
import { exited, isAlive as alive } from '../helpers/processes.js';
import { claimAndStart, runEnded, taskLog, waitFor, worker, workerBoard } from '../helpers/workers.js';
import { claimOrFail, forceTask, forceRun } from '../helpers/board.js';

describe('kanban reclaim', () => {
  it('takes a running task back: run reclaimed (not counted), worker stopped, task ready', async () => {
    const board = workerBoard({ hang: { command: worker('hang', '--ignore-term') } });
    const { task } = createTask(board.store, { title: 'stuck', assignee: 'hang' });
    const identity = claimAndStart(board, task.id, 600);
    await waitFor('the worker', () => getTask(board.store, task.id).worker_pid);
    // Its pid is recorded as soon as it is spawned; on a loaded machine Node may not have run the
    // script (and installed its SIGTERM handler) yet: wait for the line it prints once it has.
    // The worker pid on the board is its container's: the worker says its own.
    const pid = Number(await waitFor('the worker to ignore SIGTERM', () => /hanging as (\d+)/.exec(taskLog(board, task.id))?.[1]));
    const result = kanban(['--db', board.db, 'reclaim', task.id, '--json'], board.env);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ id: task.id, status: 'ready', consecutive_failures: 0, claim_lock: null });
    // It ignored SIGTERM, so reclaim waited out the grace and sent SIGKILL. Gone, once its supervisor has reaped it.
    const run = await runEnded(board, identity);
    expect(run).toMatchObject({ outcome: 'reclaimed', signal: 'SIGKILL' });
    expect(taskLog(board, task.id)).toContain('ignoring SIGTERM');
    await waitFor('the worker to be gone', () => !alive(pid));
  });

  it('refuses what is not running (1), what does not exist (3), and ids with --stale or neither (2)', () => {
    const board = workerBoard({});
    const { task } = createTask(board.store, { title: 'idle' });
    expect(kanban(['--db', board.db, 'reclaim', task.id], board.env)).toMatchObject({ code: 1, stderr: `kanban: cannot reclaim ${task.id}: it is ready, not running\n` });
    expect(kanban(['--db', board.db, 'reclaim', 't_00000000'], board.env).code).toBe(3);
    expect(kanban(['--db', board.db, 'reclaim', task.id, '--stale'], board.env).code).toBe(2);
    expect(kanban(['--db', board.db, 'reclaim'], board.env)).toMatchObject({ code: 2, stderr: 'kanban: reclaim needs task ids or --stale, not both\n' });
  });

  it('--stale takes back dead-supervisor runs and ghosts, and leaves healthy ones alone', async () => {
    const board = workerBoard({ hang: { command: worker('hang') } }, { KANBAN_CRASH_GRACE_SECONDS: '0' });
    const healthy = createTask(board.store, { title: 'healthy', assignee: 'hang' }).task.id;
    const healthyRun = claimAndStart(board, healthy, 600);
    await waitFor('the healthy worker', () => getTask(board.store, healthy).worker_pid);
    const orphan = createTask(board.store, { title: 'orphan' }).task.id;
    const claim = claimOrFail(board.store, orphan, { profile: null, leaseMs: 600_000 });
    forceRun(board.store, claim.identity.runId, { supervisor_pid: 999999 });
    const ghost = createTask(board.store, { title: 'ghost' }).task.id;
    forceTask(board.store, ghost, { status: 'running' });
    const result = kanban(['--db', board.db, 'reclaim', '--stale', '--json'], board.env);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as Array<{ id: string; ok: boolean; task: { status: string } }>;
    expect(report.map((r) => r.id).sort()).toEqual([orphan, ghost].sort());
    expect(report.every((r) => r.ok && r.task.status === 'ready')).toBe(true);
    expect(getTask(board.store, healthy)).toMatchObject({ status: 'running', current_run_id: healthyRun.runId });
    expect(getTask(board.store, ghost).status).toBe('ready');
    expect(runsForTask(board.store, orphan)[0]).toMatchObject({ outcome: 'reclaimed' });
    expect(kanban(['--db', board.db, 'reclaim', '--stale'], board.env).stdout).toBe('nothing to reclaim\n');
  });
});

describe('kanban log', () => {
  it('prints every run’s output with control sequences removed', async () => {
    const board = workerBoard({ noisy: { command: worker('escapes', '0') } });
    const { task } = createTask(board.store, { title: 'noisy', assignee: 'noisy' });
    await runEnded(board, claimAndStart(board, task.id));
    const result = kanban(['--db', board.db, 'log', task.id]);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(result.stdout).toMatch(/\[r1 out\] plain line\n/);
    expect(result.stdout).toMatch(/\[r1 out\] red:RED title: done\n/);
    expect(result.stdout).toMatch(/\[r1 kanban\] worker exited: code 0/);
  });

  it('--follow prints new output as the worker writes it, and stops on SIGINT', async () => {
    const board = workerBoard({ noisy: { command: worker('escapes', '1500') } });
    const { task } = createTask(board.store, { title: 'noisy', assignee: 'noisy' });
    const follower = spawn(process.execPath, [KANBAN_BIN, '--db', board.db, 'log', task.id, '--follow'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    follower.stdout!.on('data', (chunk) => (out += chunk));
    const identity = claimAndStart(board, task.id);
    await waitFor('the first lines', () => out.includes('plain line'));
    expect(out).not.toContain('late line');
    await waitFor('the late line', () => out.includes('late line'), 10_000);
    await runEnded(board, identity);
    follower.kill('SIGINT');
    expect(await exited(follower)).toBe(0);
    expect(out).not.toMatch(/\u001b/);
  });

  it('--follow on a task that is done prints its output and stops by itself', async () => {
    const board = workerBoard({ noisy: { command: worker('escapes', '0'), on_clean_exit: 'complete' } });
    const { task } = createTask(board.store, { title: 'noisy', assignee: 'noisy' });
    await runEnded(board, claimAndStart(board, task.id));
    expect(getTask(board.store, task.id).status).toBe('done');
    const follower = spawn(process.execPath, [KANBAN_BIN, '--db', board.db, 'log', task.id, '--follow'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    follower.stdout!.on('data', (chunk) => (out += chunk));
    const ended = new Promise<number | null>((resolve) => follower.once('exit', (code) => resolve(code)));
    const code = await Promise.race([ended, new Promise<'still following'>((resolve) => setTimeout(() => resolve('still following'), 20_000))]);
    follower.kill('SIGKILL');
    expect(code).toBe(0);
    expect(out).toMatch(/\[r1 out\] plain line\n/);
  });

  it('says so when a task has no output yet, and refuses a task that does not exist', () => {
    const board = workerBoard({});
    const { task } = createTask(board.store, { title: 'quiet' });
    expect(kanban(['--db', board.db, 'log', task.id])).toMatchObject({ code: 0, stdout: '', stderr: `kanban: no output from ${task.id} yet\n` });
    expect(kanban(['--db', board.db, 'log', 't_00000000']).code).toBe(3);
  });
});
