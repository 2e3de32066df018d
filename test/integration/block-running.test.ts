import { describe, expect, it } from 'vitest';
import { runsForTask } from '../../src/store/runs.js';
import { createTask, getTask } from '../../src/store/tasks.js';
import { kanban, kanbanJson } from '../helpers/cli.js';
import { isAlive } from '../helpers/processes.js';
import { claimAndStart, eventsOf, runEnded, taskLog, waitFor, worker, workerBoard } from '../helpers/workers.js';
import { forceTask } from '../helpers/board.js';

describe('kanban block on a running task', () => {
  it('stops the worker, closes the run as blocked (not counted), and only unblock releases it', async () => {
    const board = workerBoard({ hang: { command: worker('hang') }, other: { command: worker('hang') } });
    const { task } = createTask(board.store, { title: 'long job', assignee: 'hang' });
    forceTask(board.store, task.id, { consecutive_failures: 1 });
    const identity = claimAndStart(board, task.id, 600);
    await waitFor('the worker', () => getTask(board.store, task.id).worker_pid);
    // The worker pid on the board is its container's: the worker says its own.
    const pid = Number(await waitFor('the worker to run', () => /hanging as (\d+)/.exec(taskLog(board, task.id))?.[1]));

    // A running task keeps its assignee (its run holds a slot of that profile); other edits are fine.
    expect(kanban(['--db', board.db, 'edit', task.id, '--assignee', 'other'], board.env)).toMatchObject({
      code: 1,
      stdout: '',
      stderr: `kanban: cannot reassign ${task.id}: it is running as hang (reclaim or block it first)\n`,
    });
    expect(kanbanJson(board.db, ['edit', task.id, '--title', 'long job, renamed', '--priority', '3'], board.env)).toMatchObject({ status: 'running', assignee: 'hang', priority: 3 });

    const blocked = kanbanJson(board.db, ['block', task.id, 'stop'], board.env);
    expect(blocked).toMatchObject({ id: task.id, status: 'blocked', status_reason: 'stop', consecutive_failures: 1, claim_lock: null, current_run_id: null });
    expect(eventsOf(board, task.id, 'blocked')).toMatchObject([{ run_id: identity.runId, payload: { from: 'running', reason: 'stop', source: 'user', sticky: true } }]);

    // The supervisor records the exit of the worker it saw stopped; the run was closed already, so only the signal is added.
    const run = await runEnded(board, identity);
    expect(run).toMatchObject({ outcome: 'blocked', summary: 'stop', error: 'stopped by a person: stop', signal: 'SIGTERM' });
    await waitFor('the worker to be gone', () => !isAlive(pid));
    expect(getTask(board.store, task.id)).toMatchObject({ status: 'blocked', consecutive_failures: 1 });

    // Sticky: the dispatcher starts nothing.
    const tick = kanban(['--db', board.db, 'dispatch'], board.env);
    expect(tick.code, tick.stderr).toBe(0);
    expect(runsForTask(board.store, task.id)).toHaveLength(1);
    expect(getTask(board.store, task.id).status).toBe('blocked');

    expect(kanbanJson(board.db, ['unblock', task.id], board.env)).toMatchObject({ status: 'ready', consecutive_failures: 0 });
    expect(kanban(['--db', board.db, 'dispatch'], board.env).code).toBe(0);
    expect(runsForTask(board.store, task.id)).toHaveLength(2);
  });

  it('on a task that is not running it blocks as before', () => {
    const board = workerBoard({});
    const { task } = createTask(board.store, { title: 'later' });
    expect(kanbanJson(board.db, ['block', task.id], board.env)).toMatchObject({ status: 'blocked', status_reason: null });
    expect(eventsOf(board, task.id, 'blocked')).toMatchObject([{ run_id: null, payload: { from: 'ready', reason: null, source: 'user', sticky: true } }]);
  });
});
