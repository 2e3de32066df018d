import { describe, expect, it } from 'vitest';
import { InvalidInput, NotFound, Refused } from '../../../src/errors.js';
import { recordExit } from '../../../src/store/lease.js';
import { archiveTask, blockTask, completeTask, promoteTask, scheduleTask, stopAndBlock, unblockTask } from '../../../src/store/lifecycle.js';
import { runById } from '../../../src/store/runs.js';
import { linkTasks } from '../../../src/store/links.js';
import { createTask, getTask } from '../../../src/store/tasks.js';
import { STATUSES, type Status } from '../../../src/core/types.js';
import type { Store } from '../../../src/store/db.js';
import { claimOrFail, dumpBoard, lastEvent, manualClock, taskIn, testStore, forceTask } from '../../helpers/board.js';

const HOUR = 3_600_000;

interface TransitionCase {
  name: string;
  legalFrom: readonly Status[];
  to: Status;
  event: string;
  apply(store: Store, id: string): unknown;
}

const transitions: TransitionCase[] = [
  { name: 'block', legalFrom: ['triage', 'todo', 'ready', 'scheduled', 'review'], to: 'blocked', event: 'blocked', apply: (s, id) => blockTask(s, id, 'waiting on a key') },
  {
    name: 'stop and block',
    legalFrom: ['triage', 'todo', 'ready', 'running', 'scheduled', 'review'],
    to: 'blocked',
    event: 'blocked',
    apply: (s, id) => stopAndBlock(s, id, 'waiting on a key'),
  },
  { name: 'unblock', legalFrom: ['blocked', 'scheduled'], to: 'ready', event: 'unblocked', apply: (s, id) => unblockTask(s, id) },
  {
    name: 'schedule',
    legalFrom: ['triage', 'todo', 'ready', 'blocked', 'scheduled', 'review'],
    to: 'scheduled',
    event: 'scheduled',
    apply: (s, id) => scheduleTask(s, id, s.clock.now() + 2 * HOUR, 'after the freeze'),
  },
  { name: 'promote', legalFrom: ['triage', 'todo', 'blocked'], to: 'ready', event: 'promoted_manual', apply: (s, id) => promoteTask(s, id) },
  {
    name: 'complete',
    legalFrom: ['triage', 'todo', 'ready', 'running', 'blocked', 'scheduled', 'review'],
    to: 'done',
    event: 'completed',
    apply: (s, id) => completeTask(s, id, 'shipped'),
  },
  {
    name: 'archive',
    legalFrom: ['triage', 'todo', 'ready', 'blocked', 'scheduled', 'review', 'done'],
    to: 'archived',
    event: 'archived',
    apply: (s, id) => archiveTask(s, id),
  },
];

describe.each(transitions)('$name', ({ legalFrom, to, event, apply }) => {
  for (const from of STATUSES) {
    if (legalFrom.includes(from)) {
      it(`moves a ${from} task to ${to} with a '${event}' event`, () => {
        const store = testStore();
        const id = taskIn(store, from);
        apply(store, id);
        expect(getTask(store, id).status).toBe(to);
        expect(lastEvent(store, id)).toMatchObject({ kind: event, payload: { from } });
      });
    } else {
      it(`refuses a ${from} task and writes nothing`, () => {
        const store = testStore();
        const id = taskIn(store, from);
        const before = dumpBoard(store);
        expect(() => apply(store, id)).toThrowError(Refused);
        expect(() => apply(store, id)).toThrowError(new RegExp(`it is ${from}`));
        expect(dumpBoard(store)).toEqual(before);
      });
    }
  }

  it('reports a missing task as NotFound and writes nothing', () => {
    const store = testStore();
    const before = dumpBoard(store);
    expect(() => apply(store, 't_00000000')).toThrowError(NotFound);
    expect(dumpBoard(store)).toEqual(before);
  });
});

describe('block', () => {
  it('is sticky and keeps its reason', () => {
    const store = testStore();
    const id = taskIn(store, 'ready');
    const task = blockTask(store, id, 'needs a human');
    expect(task.status_reason).toBe('needs a human');
    expect(lastEvent(store, id).payload).toMatchObject({ reason: 'needs a human', source: 'user', sticky: true });
  });

  it('refuses a running task: stopping its worker is stopAndBlock’s', () => {
    const store = testStore();
    const id = taskIn(store, 'running');
    expect(() => blockTask(store, id)).toThrowError(/running \(reclaim it first\)/);
  });
});

describe('stop and block', () => {
  const exit = { exitCode: null, signal: 'SIGTERM', failures: { limit: 2, limitSource: 'default' as const } };

  function running(store: Store, failures = 1) {
    const { task } = createTask(store, { title: 'busy', assignee: 'coder' });
    forceTask(store, task.id, { consecutive_failures: failures });
    return claimOrFail(store, task.id, { profile: 'coder', leaseMs: 60_000 }).identity;
  }

  it('closes a running task’s run as blocked (not counted), drops the claim, and names the run to stop', () => {
    const store = testStore();
    const identity = running(store);
    const { task, stopped } = stopAndBlock(store, identity.taskId, 'stop');
    expect(stopped).toEqual(identity);
    expect(task).toMatchObject({ status: 'blocked', status_reason: 'stop', consecutive_failures: 1, claim_lock: null, current_run_id: null, worker_pid: null });
    expect(runById(store, identity.taskId, identity.runId)).toMatchObject({ status: 'ended', outcome: 'blocked', summary: 'stop', error: 'stopped by a person: stop' });
    const event = store.db.prepare("SELECT run_id, payload FROM task_events WHERE task_id = ? AND kind = 'blocked'").get(identity.taskId) as { run_id: number; payload: string };
    expect(event.run_id).toBe(identity.runId);
    expect(JSON.parse(event.payload)).toEqual({ from: 'running', reason: 'stop', source: 'user', sticky: true });
  });

  it('the worker’s exit recorded after it only adds the exit code: the task stays blocked', () => {
    const store = testStore();
    const identity = running(store);
    stopAndBlock(store, identity.taskId, 'stop');
    const before = getTask(store, identity.taskId);
    expect(recordExit(store, identity, exit)).toMatchObject({ outcome: 'blocked', alreadyClosed: true });
    expect(getTask(store, identity.taskId)).toEqual(before);
    expect(runById(store, identity.taskId, identity.runId)).toMatchObject({ outcome: 'blocked', signal: 'SIGTERM' });
  });

  it('after an exit recorded first, it blocks what the exit left and stops no run', () => {
    const store = testStore();
    const identity = running(store, 0);
    expect(recordExit(store, identity, exit).task).toMatchObject({ status: 'ready', consecutive_failures: 1 }); // crashed: counted
    const { task, stopped } = stopAndBlock(store, identity.taskId, 'stop');
    expect(stopped).toBeNull();
    expect(task).toMatchObject({ status: 'blocked', consecutive_failures: 1 });
    expect(runById(store, identity.taskId, identity.runId)).toMatchObject({ outcome: 'crashed' });
  });

  it('blocks a running task without an open run (a ghost), with nothing to stop', () => {
    const store = testStore();
    const id = createTask(store, { title: 'ghost' }).task.id;
    forceTask(store, id, { status: 'running' });
    expect(stopAndBlock(store, id)).toMatchObject({ task: { status: 'blocked' }, stopped: null });
  });
});

describe('unblock', () => {
  it('resets the failure counter and clears the reason', () => {
    const store = testStore();
    const id = taskIn(store, 'blocked');
    forceTask(store, id, { consecutive_failures: 2, status_reason: 'breaker' });
    const task = unblockTask(store, id);
    expect(task).toMatchObject({ status: 'ready', consecutive_failures: 0, status_reason: null });
    expect(lastEvent(store, id).payload).toMatchObject({ from: 'blocked', to: 'ready', failures_reset: 2 });
  });

  it('sends a task with an unfinished parent to todo, not ready', () => {
    const store = testStore();
    const parent = taskIn(store, 'ready');
    const child = taskIn(store, 'blocked');
    store.db.prepare('INSERT INTO task_links VALUES (?, ?, 0)').run(parent, child);
    expect(unblockTask(store, child).status).toBe('todo');
  });

  it('releases a scheduled task early and clears its time', () => {
    const store = testStore();
    const id = taskIn(store, 'scheduled');
    expect(unblockTask(store, id)).toMatchObject({ status: 'ready', scheduled_until: null });
  });
});

describe('schedule', () => {
  it('sets scheduled_until and can move it', () => {
    const clock = manualClock();
    const store = testStore(clock);
    const id = taskIn(store, 'ready');
    expect(scheduleTask(store, id, clock.now() + HOUR).scheduled_until).toBe(clock.now() + HOUR);
    expect(scheduleTask(store, id, clock.now() + 2 * HOUR).scheduled_until).toBe(clock.now() + 2 * HOUR);
  });

  it('refuses a time that has passed as bad input, writing nothing', () => {
    const clock = manualClock();
    const store = testStore(clock);
    const id = taskIn(store, 'ready');
    const before = dumpBoard(store);
    expect(() => scheduleTask(store, id, clock.now())).toThrowError(InvalidInput);
    expect(dumpBoard(store)).toEqual(before);
  });
});

describe('promote', () => {
  it('is refused while a parent is unfinished, naming it', () => {
    const store = testStore();
    const parent = taskIn(store, 'ready');
    const { task: child } = createTask(store, { title: 'child', parents: [parent] });
    const before = dumpBoard(store);
    expect(() => promoteTask(store, child.id)).toThrowError(new RegExp(`parent ${parent} is not done \\(ready\\)`));
    expect(dumpBoard(store)).toEqual(before);
  });

  it('--force promotes anyway and says so in the event', () => {
    const store = testStore();
    const parent = taskIn(store, 'ready');
    const { task: child } = createTask(store, { title: 'child', parents: [parent] });
    expect(promoteTask(store, child.id, { force: true }).status).toBe('ready');
    expect(lastEvent(store, child.id)).toEqual({
      kind: 'promoted_manual',
      payload: { from: 'todo', to: 'ready', forced: true, unfinished_parents: [parent] },
    });
  });

  it('--dry-run returns the promoted task and writes nothing', () => {
    const store = testStore();
    const id = taskIn(store, 'todo');
    const before = dumpBoard(store);
    expect(promoteTask(store, id, { dryRun: true }).status).toBe('ready');
    expect(dumpBoard(store)).toEqual(before);
  });

  it('--dry-run is refused exactly as the real promote would be', () => {
    const store = testStore();
    const id = taskIn(store, 'done');
    expect(() => promoteTask(store, id, { dryRun: true })).toThrowError(Refused);
  });

  it('from blocked clears the failure counter so the breaker does not trip at once', () => {
    const store = testStore();
    const id = taskIn(store, 'blocked');
    forceTask(store, id, { consecutive_failures: 2 });
    expect(promoteTask(store, id).consecutive_failures).toBe(0);
  });
});

describe('complete', () => {
  it('records the summary and time, and resets the failure counter', () => {
    const clock = manualClock();
    const store = testStore(clock);
    const id = taskIn(store, 'blocked');
    forceTask(store, id, { consecutive_failures: 1 });
    clock.advance(5000);
    expect(completeTask(store, id, 'done by hand')).toMatchObject({
      status: 'done',
      summary: 'done by hand',
      completed_at: clock.now(),
      consecutive_failures: 0,
    });
  });

  it('closes the open run of a running task and drops its claim', () => {
    const store = testStore();
    const id = taskIn(store, 'running');
    const runId = getTask(store, id).current_run_id;
    const task = completeTask(store, id);
    expect(task).toMatchObject({ claim_lock: null, claim_expires: null, worker_pid: null, current_run_id: null });
    expect(store.db.prepare('SELECT status, outcome FROM task_runs WHERE id = ?').get(runId)).toEqual({ status: 'ended', outcome: 'completed' });
  });

  it('promotes children whose parents are now all done, and only those', () => {
    const store = testStore();
    const a = taskIn(store, 'ready');
    const b = taskIn(store, 'ready');
    const onlyA = createTask(store, { title: 'needs a', parents: [a] }).task.id;
    const aAndB = createTask(store, { title: 'needs a and b', parents: [a, b] }).task.id;
    completeTask(store, a);
    expect(getTask(store, onlyA).status).toBe('ready');
    expect(lastEvent(store, onlyA)).toEqual({ kind: 'promoted', payload: { from: 'todo', to: 'ready', source: 'parents_done', parent: a } });
    expect(getTask(store, aAndB).status).toBe('todo');
    completeTask(store, b);
    expect(getTask(store, aAndB).status).toBe('ready');
  });

  it('leaves children that are not todo alone', () => {
    const store = testStore();
    const parent = taskIn(store, 'ready');
    const child = createTask(store, { title: 'c', parents: [parent] }).task.id;
    blockTask(store, child);
    completeTask(store, parent);
    expect(getTask(store, child).status).toBe('blocked');
  });
});

describe('archive', () => {
  it('counts as finished for the children of an archived parent', () => {
    const store = testStore();
    const parent = taskIn(store, 'ready');
    const child = createTask(store, { title: 'c', parents: [parent] }).task.id;
    archiveTask(store, parent);
    expect(getTask(store, child).status).toBe('ready');
  });
});

describe('failed transitions roll back all of their writes', () => {
  it('a complete whose child promotion fails leaves the parent unfinished', () => {
    const store = testStore();
    const parent = taskIn(store, 'ready');
    const child = createTask(store, { title: 'c', parents: [parent] }).task.id;
    store.db.exec(`CREATE TEMP TRIGGER refuse_promotion BEFORE UPDATE OF status ON tasks
      WHEN NEW.id = '${child}' BEGIN SELECT RAISE(ABORT, 'promotion refused by test'); END`);
    const before = dumpBoard(store);
    expect(() => completeTask(store, parent)).toThrowError(/promotion refused by test/);
    expect(dumpBoard(store)).toEqual(before);
  });
});
