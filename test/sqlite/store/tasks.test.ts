import { describe, expect, it } from 'vitest';
import { InvalidInput, NotFound, Refused } from '../../../src/errors.js';
import { addComment } from '../../../src/store/comments.js';
import { archiveTask, completeTask } from '../../../src/store/lifecycle.js';
import { createTask, editTask, getTask, listTasks, listTasksJson, showTask } from '../../../src/store/tasks.js';
import { dumpBoard, eventKinds, lastEvent, manualClock, taskIn, testStore, forceTask } from '../../helpers/board.js';

describe('create', () => {
  it('makes a ready task with a created event and the contract fields', () => {
    const clock = manualClock();
    const store = testStore(clock);
    const { task, created } = createTask(store, { title: 'Write the docs', body: 'all of them', assignee: 'coder', priority: 3 });
    expect(created).toBe(true);
    expect(task.id).toMatch(/^t_[0-9a-f]{8}$/);
    expect(task).toMatchObject({
      title: 'Write the docs',
      body: 'all of them',
      status: 'ready',
      assignee: 'coder',
      priority: 3,
      consecutive_failures: 0,
      created_at: clock.now(),
      updated_at: clock.now(),
      parents: [],
      children: [],
    });
    expect(eventKinds(store, task.id)).toEqual(['created']);
  });

  it('stores titles and bodies exactly as given, control characters included', () => {
    const store = testStore();
    const title = 'evil \u001b[2J\u001b]0;pwned\u0007 title\n';
    const { task } = createTask(store, { title, body: 'line1\r\nline2\u0000' });
    expect(getTask(store, task.id)).toMatchObject({ title, body: 'line1\r\nline2\u0000' });
  });

  it('is todo while a parent is unfinished and ready once every parent is done', () => {
    const store = testStore();
    const open = taskIn(store, 'ready');
    const done = taskIn(store, 'done');
    expect(createTask(store, { title: 'c1', parents: [open, done] }).task.status).toBe('todo');
    expect(createTask(store, { title: 'c2', parents: [done] }).task.status).toBe('ready');
    const c3 = createTask(store, { title: 'c3', parents: [done, done] }).task;
    expect(c3.parents).toEqual([done]);
  });

  it('lands in triage with --triage, and in the asked status with --status', () => {
    const store = testStore();
    expect(createTask(store, { title: 't', triage: true }).task.status).toBe('triage');
    expect(createTask(store, { title: 't', status: 'todo' }).task.status).toBe('todo');
    const blocked = createTask(store, { title: 't', status: 'blocked' }).task;
    expect(blocked.status).toBe('blocked');
    expect(lastEvent(store, blocked.id)).toMatchObject({ kind: 'blocked', payload: { sticky: true, source: 'user' } });
  });

  it('refuses --status ready while a parent is unfinished', () => {
    const store = testStore();
    const parent = taskIn(store, 'todo');
    const before = dumpBoard(store);
    expect(() => createTask(store, { title: 't', parents: [parent], status: 'ready' })).toThrowError(Refused);
    expect(dumpBoard(store)).toEqual(before);
  });

  it('refuses a missing parent with NotFound and writes nothing', () => {
    const store = testStore();
    const before = dumpBoard(store);
    expect(() => createTask(store, { title: 't', parents: ['t_00000000'] })).toThrowError(NotFound);
    expect(dumpBoard(store)).toEqual(before);
  });

  it.each([
    [{ title: '   ' }, /needs a title/],
    [{ title: 't', assignee: 'has space' }, /invalid assignee/],
    [{ title: 't', priority: 1.5 }, /invalid priority/],
    [{ title: 't', maxRetries: 0 }, /invalid max retries/],
    [{ title: 't', maxRuntimeSeconds: 0 }, /invalid max runtime/],
    [{ title: 't', triage: true, status: 'todo' as const }, /either triage or a status/],
    [{ title: 't', idempotencyKey: '' }, /idempotency key cannot be empty/],
  ])('rejects bad input %j', (input, message) => {
    const store = testStore();
    const before = dumpBoard(store);
    expect(() => createTask(store, input)).toThrowError(InvalidInput);
    expect(() => createTask(store, input)).toThrowError(message);
    expect(dumpBoard(store)).toEqual(before);
  });

  it('returns the same task for the same idempotency key until it is archived', () => {
    const store = testStore();
    const first = createTask(store, { title: 'deploy', idempotencyKey: 'k1' });
    const again = createTask(store, { title: 'deploy (retry)', idempotencyKey: 'k1' });
    expect(again).toMatchObject({ created: false, task: { id: first.task.id, title: 'deploy' } });
    expect(eventKinds(store, first.task.id)).toEqual(['created']);
    completeTask(store, first.task.id);
    expect(createTask(store, { title: 'x', idempotencyKey: 'k1' }).task.id).toBe(first.task.id);
    archiveTask(store, first.task.id);
    const fresh = createTask(store, { title: 'deploy again', idempotencyKey: 'k1' });
    expect(fresh.created).toBe(true);
    expect(fresh.task.id).not.toBe(first.task.id);
  });
});

describe('edit', () => {
  it('writes changed fields with one edited event listing old and new values', () => {
    const clock = manualClock();
    const store = testStore(clock);
    const id = taskIn(store, 'ready');
    clock.advance(1000);
    const task = editTask(store, id, { title: 'new title', priority: 7, maxRetries: 3 });
    expect(task).toMatchObject({ title: 'new title', priority: 7, max_retries: 3, updated_at: clock.now() });
    expect(lastEvent(store, id)).toEqual({
      kind: 'edited',
      payload: { changes: { title: { from: 'a ready task', to: 'new title' }, priority: { from: 0, to: 7 }, max_retries: { from: null, to: 3 } } },
    });
  });

  it('records an assignee change as assigned, and none unassigns', () => {
    const store = testStore();
    const id = taskIn(store, 'ready');
    editTask(store, id, { assignee: 'coder' });
    expect(lastEvent(store, id)).toEqual({ kind: 'assigned', payload: { from: null, to: 'coder', source: 'user' } });
    expect(editTask(store, id, { assignee: null }).assignee).toBeNull();
  });

  it('changes nothing, not even updated_at, when the values are the same', () => {
    const clock = manualClock();
    const store = testStore(clock);
    const id = taskIn(store, 'ready');
    const before = dumpBoard(store);
    clock.advance(1000);
    editTask(store, id, { title: 'a ready task', priority: 0 });
    expect(dumpBoard(store)).toEqual(before);
  });

  it('--reset-failures sets the counter to 0', () => {
    const store = testStore();
    const id = taskIn(store, 'blocked');
    forceTask(store, id, { consecutive_failures: 2 });
    expect(editTask(store, id, { resetFailures: true }).consecutive_failures).toBe(0);
  });

  it('--clear-claim drops a leftover claim from a task that is not running', () => {
    const store = testStore();
    const id = taskIn(store, 'ready');
    forceTask(store, id, { claim_lock: 'h:1:x', claim_expires: 5, worker_pid: 9, current_run_id: 3 });
    expect(editTask(store, id, { clearClaim: true })).toMatchObject({ claim_lock: null, claim_expires: null, worker_pid: null, current_run_id: null });
  });

  it('--clear-claim is refused on a running task', () => {
    const store = testStore();
    const id = taskIn(store, 'running');
    const before = dumpBoard(store);
    expect(() => editTask(store, id, { clearClaim: true })).toThrowError(/it is running \(reclaim it instead\)/);
    expect(dumpBoard(store)).toEqual(before);
  });

  it('refuses a new assignee on a running task (its run holds a slot of its profile), and allows the other edits', () => {
    const store = testStore();
    const id = taskIn(store, 'running');
    forceTask(store, id, { assignee: 'coder' });
    const before = dumpBoard(store);
    expect(() => editTask(store, id, { assignee: 'reviewer' })).toThrowError(Refused);
    expect(() => editTask(store, id, { assignee: null, title: 'renamed' })).toThrowError(/cannot reassign t_\w+: it is running as coder/);
    expect(dumpBoard(store)).toEqual(before);
    expect(editTask(store, id, { assignee: 'coder', title: 'renamed', body: 'more', priority: 5 })).toMatchObject({
      status: 'running',
      assignee: 'coder',
      title: 'renamed',
      body: 'more',
      priority: 5,
    });
  });

  it('refuses a missing task and bad values', () => {
    const store = testStore();
    const id = taskIn(store, 'ready');
    expect(() => editTask(store, 't_00000000', { title: 'x' })).toThrowError(NotFound);
    expect(() => editTask(store, id, { title: '' })).toThrowError(InvalidInput);
    expect(() => editTask(store, id, { priority: Number.NaN })).toThrowError(InvalidInput);
  });
});

describe('comment', () => {
  it('adds a comment and a commented event', () => {
    const store = testStore();
    const id = taskIn(store, 'ready');
    const comment = addComment(store, id, 'looks good');
    expect(comment).toMatchObject({ task_id: id, author: 'user', body: 'looks good', run_id: null });
    expect(lastEvent(store, id)).toEqual({ kind: 'commented', payload: { comment_id: comment.id, author: 'user' } });
  });

  it('refuses empty text and a missing task, writing nothing', () => {
    const store = testStore();
    const id = taskIn(store, 'ready');
    const before = dumpBoard(store);
    expect(() => addComment(store, id, '  ')).toThrowError(InvalidInput);
    expect(() => addComment(store, 't_00000000', 'hi')).toThrowError(NotFound);
    expect(dumpBoard(store)).toEqual(before);
  });
});

describe('list and show', () => {
  it('hides archived tasks unless asked, and filters by status and assignee', () => {
    const store = testStore();
    const ready = taskIn(store, 'ready');
    const archived = taskIn(store, 'archived');
    const mine = createTask(store, { title: 'mine', assignee: 'coder' }).task.id;
    expect(listTasks(store).map((t) => t.id).sort()).toEqual([ready, mine].sort());
    expect(listTasks(store, { statuses: ['archived'] }).map((t) => t.id)).toEqual([archived]);
    expect(listTasks(store, { assignee: 'coder' }).map((t) => t.id)).toEqual([mine]);
  });

  it('sorts by board order, then priority, then age', () => {
    const clock = manualClock();
    const store = testStore(clock);
    const blocked = taskIn(store, 'blocked', 'b');
    clock.advance(1);
    const lowOld = createTask(store, { title: 'low old', priority: 1 }).task.id;
    clock.advance(1);
    const high = createTask(store, { title: 'high', priority: 5 }).task.id;
    clock.advance(1);
    const lowNew = createTask(store, { title: 'low new', priority: 1 }).task.id;
    clock.advance(1);
    const triage = taskIn(store, 'triage');
    expect(listTasks(store).map((t) => t.id)).toEqual([triage, high, lowOld, lowNew, blocked]);
    expect(listTasks(store, { sort: 'created' }).map((t) => t.id)).toEqual([blocked, lowOld, high, lowNew, triage]);
    expect(listTasks(store, { sort: 'title' }).map((t) => t.title)).toEqual(['a triage task', 'b', 'high', 'low new', 'low old']);
  });

  it('lists parents and children on every task', () => {
    const store = testStore();
    const parent = taskIn(store, 'ready');
    const child = createTask(store, { title: 'c', parents: [parent] }).task.id;
    const byId = new Map(listTasks(store).map((t) => [t.id, t]));
    expect(byId.get(parent)).toMatchObject({ parents: [], children: [child] });
    expect(byId.get(child)).toMatchObject({ parents: [parent], children: [] });
  });

  it('show gives the task with its runs, events and comments', () => {
    const store = testStore();
    const id = taskIn(store, 'running');
    addComment(store, id, 'hello');
    const detail = showTask(store, id);
    expect(detail.task.id).toBe(id);
    expect(detail.runs).toHaveLength(1);
    expect(detail.events.map((e) => e.kind)).toEqual(['created', 'claimed', 'commented']);
    expect(detail.events[2]!.payload).toEqual({ comment_id: detail.comments[0]!.id, author: 'user' });
    expect(detail.comments.map((c) => c.body)).toEqual(['hello']);
  });
});

describe('listTasksJson', () => {
  it('gives exactly what listTasks gives, for every filter and sort', () => {
    const store = testStore();
    const parent = taskIn(store, 'ready');
    createTask(store, { title: 'child "quoted" \\ ü 🚀 \u0001', parents: [parent], assignee: 'coder', maxRuntimeSeconds: 900, maxRetries: 2 });
    createTask(store, { title: 'fractional', maxRuntimeSeconds: 0.5, priority: -3, body: 'multi\nline' });
    for (const status of ['running', 'blocked', 'scheduled', 'done', 'archived'] as const) taskIn(store, status);
    const filters = [{}, { statuses: ['archived' as const] }, { assignee: 'coder' }, { sort: 'priority' as const }, { sort: 'title' as const }, { statuses: ['triage' as const] }];
    for (const filter of filters) {
      expect(JSON.parse(listTasksJson(store, filter).toString('utf8'))).toEqual(listTasks(store, filter));
    }
  });
});

describe("the board's filter index", () => {
  it('follows a task as it is created, retitled and reassigned: a filter finds it by what it is now, never by what it was', async () => {
    const { columnCounts } = await import('../../../src/store/board.js');
    const store = testStore(manualClock());
    const { task } = createTask(store, { title: 'parse the logs', assignee: 'coder' });
    const matches = (filter: string) => columnCounts(store, filter).ready;
    expect([matches('the logs'), matches('coder'), matches(task.id.slice(2))]).toEqual([1, 1, 1]);
    editTask(store, task.id, { title: 'write the docs', assignee: 'reviewer' });
    expect([matches('the logs'), matches('coder'), matches('the docs'), matches('viewer')]).toEqual([0, 0, 1, 1]);
    editTask(store, task.id, { assignee: null });
    expect([matches('viewer'), matches('the docs')]).toEqual([0, 1]);
    // FTS5's own check of the index against its table (it throws where they disagree).
    expect(() => store.db.prepare("INSERT INTO tasks_text (tasks_text, rank) VALUES ('integrity-check', 1)").run()).not.toThrow();
  });
});
