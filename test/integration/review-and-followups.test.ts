import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addComment } from '../../src/store/comments.js';
import { openStore, type Store } from '../../src/store/db.js';
import { reviewRun } from '../../src/store/lease.js';
import type { RunIdentity } from '../../src/core/run.js';
import { completeTask } from '../../src/store/lifecycle.js';
import { runsForTask } from '../../src/store/runs.js';
import { createTask, getTask, showTask } from '../../src/store/tasks.js';
import { claimOrFail, tempDir, forceTask } from '../helpers/board.js';
import { expectFailure, kanban, kanbanJson } from '../helpers/cli.js';
import { claimAndStart, eventsOf, runEnded, worker, workerBoard, type WorkerBoard } from '../helpers/workers.js';

/** A worker that does these steps (test/fixtures/workers/steps.mjs), as a profile's command. */
const steps = (...list: object[]) => worker('steps', ...list.map((step) => JSON.stringify(step)));

/** Replaces the board's profiles (the supervisor reads the file when it starts a run). */
function setProfiles(board: WorkerBoard, profiles: Record<string, unknown>): void {
  writeFileSync(board.env.KANBAN_CONFIG!, JSON.stringify({ profiles }));
}

const envOf = (id: RunIdentity, db: string) => ({ KANBAN_DB: db, KANBAN_TASK: id.taskId, KANBAN_RUN_ID: String(id.runId), KANBAN_CLAIM_LOCK: id.claimLock });
const forged = (id: RunIdentity): RunIdentity => ({ ...id, claimLock: id.claimLock.replace(/[0-9a-f]$/, (c) => (c === '0' ? '1' : '0')) });

/**
 * A board set up through the store and then closed, so the file alone holds it and expectFailure's
 * byte-for-byte comparison means something.
 */
function closedBoard<T>(setup: (store: Store) => T): { db: string; value: T } {
  const db = join(tempDir('kanban-review-'), 'board.db');
  const store = openStore(db);
  try {
    return { db, value: setup(store) };
  } finally {
    store.close();
  }
}

/** Generous: each run starts several node processes, and the machine may be loaded. */
const RUN_MS = 60_000;
const TEST_MS = 120_000;

const SUMMARY = 'Implemented the parser; the edge cases need a look';

describe('the review lane', { timeout: TEST_MS }, () => {
  it('worker review: the task waits in review with the summary; approve: done, and its children go ready', async () => {
    const board = workerBoard({ rev: { command: steps({ kanban: ['worker', 'review', '--summary', SUMMARY] }) } });
    const parent = createTask(board.store, { title: 'Implement the parser', assignee: 'rev' }).task;
    const child = createTask(board.store, { title: 'Ship it', parents: [parent.id] }).task;
    expect(child.status).toBe('todo');

    const run = await runEnded(board, claimAndStart(board, parent.id), RUN_MS);
    expect(run).toMatchObject({ outcome: 'review', summary: SUMMARY, exit_code: 0, error: null });
    expect(getTask(board.store, parent.id)).toMatchObject({ status: 'review', summary: SUMMARY, consecutive_failures: 0, claim_lock: null, current_run_id: null, worker_pid: null });
    expect(eventsOf(board, parent.id, 'review').map((e) => e.payload)).toEqual([{ from: 'running', summary: SUMMARY, source: 'worker' }]);
    expect(getTask(board.store, child.id).status).toBe('todo'); // in review is not finished

    const approved = kanbanJson(board.db, ['approve', parent.id], board.env);
    expect(approved).toMatchObject({ id: parent.id, status: 'done', summary: SUMMARY });
    expect(getTask(board.store, parent.id).completed_at).not.toBeNull();
    const kinds = eventsOf(board, parent.id).map((e) => e.kind);
    expect(kinds.slice(kinds.indexOf('review'))).toEqual(['review', 'approved', 'completed']);
    expect(getTask(board.store, child.id).status).toBe('ready');
    expect(eventsOf(board, child.id, 'promoted')).toHaveLength(1);
    expect(runsForTask(board.store, parent.id)).toHaveLength(1);
  });

  it('request-changes: back to ready with a reviewer comment, and the next run is handed the feedback', async () => {
    const out = tempDir('kanban-review-out-');
    const board = workerBoard({
      rev: {
        command: steps(
          { kanban: ['worker', 'context'], to: join(out, 'context-{run_id}.txt') },
          { kanban: ['worker', 'review', '--summary', 'first try'] },
        ),
      },
    });
    const task = createTask(board.store, { title: 'Make the tests pass', body: 'All of them.', assignee: 'rev' }).task;
    const first = claimAndStart(board, task.id);
    expect(await runEnded(board, first, RUN_MS)).toMatchObject({ outcome: 'review' });
    const firstPrompt = readFileSync(join(out, `context-${first.runId}.txt`), 'utf8');
    expect(firstPrompt).toContain('# Make the tests pass');
    expect(firstPrompt).not.toContain('fix the tests');

    const sentBack = kanbanJson(board.db, ['request-changes', task.id, 'fix the tests'], board.env);
    expect(sentBack).toMatchObject({ id: task.id, status: 'ready' });
    const { comments } = showTask(board.store, task.id);
    expect(comments).toHaveLength(1);
    expect(comments[0]).toMatchObject({ author: 'reviewer', body: 'fix the tests', run_id: null });
    expect(eventsOf(board, task.id, 'changes_requested').map((e) => e.payload)).toEqual([{ from: 'review', to: 'ready', comment_id: comments[0]!.id, source: 'user' }]);

    const second = claimAndStart(board, task.id);
    expect(await runEnded(board, second, RUN_MS)).toMatchObject({ outcome: 'review', summary: 'first try' });
    const secondPrompt = readFileSync(join(out, `context-${second.runId}.txt`), 'utf8');
    expect(secondPrompt).toContain('# Make the tests pass');
    expect(secondPrompt).toMatch(/^- review feedback \(address this\), [^:]+:\d\d:[\d.]+Z: fix the tests$/m);
  });

  it('request-changes on a task whose parent is unfinished: back to todo', () => {
    const { db, value } = closedBoard((store) => {
      const parent = createTask(store, { title: 'parent' }).task.id;
      const child = createTask(store, { title: 'child', parents: [parent] }).task.id;
      forceTask(store, child, { status: 'review' }); // test setup: in review with an open parent
      return child;
    });
    expect(kanbanJson(db, ['request-changes', value, 'not yet'])).toMatchObject({ status: 'todo' });
  });

  it('refusals: approve or request-changes on a task not in review (1), empty feedback (2), an unknown id (3)', () => {
    const { db, value } = closedBoard((store) => {
      const ready = createTask(store, { title: 'still ready' }).task.id;
      const inReview = createTask(store, { title: 'in review' }).task.id;
      reviewRun(store, claimOrFail(store, inReview, { profile: null, leaseMs: 60_000 }).identity, 'done, please check');
      const done = createTask(store, { title: 'done' }).task.id;
      completeTask(store, done, 'shipped');
      return { ready, inReview, done };
    });
    expectFailure(db, ['approve', value.ready], 1, new RegExp(`^kanban: cannot approve ${value.ready}: it is ready$`));
    expectFailure(db, ['approve', value.done], 1, /it is done/);
    expectFailure(db, ['request-changes', value.ready, 'fix the tests'], 1, new RegExp(`cannot request changes on ${value.ready}: it is ready`));
    expectFailure(db, ['request-changes', value.inReview, ''], 2, /request-changes needs the feedback/);
    expectFailure(db, ['request-changes', value.inReview, '   '], 2, /request-changes needs the feedback/);
    expectFailure(db, ['request-changes', value.inReview], 2, /missing required argument/);
    expectFailure(db, ['approve', 't_0badc0de'], 3, /no such task: t_0badc0de/);
    expectFailure(db, ['request-changes', 't_0badc0de', 'fix the tests'], 3, /no such task: t_0badc0de/);
    expectFailure(db, ['approve', 'not-an-id'], 2, /not-an-id/);
    // and the task in review is still there to approve
    expect(kanbanJson(db, ['approve', value.inReview])).toMatchObject({ status: 'done', summary: 'done, please check' });
  });

  it('worker review with a stale identity: exit 1, the task untouched', () => {
    const { db, value } = closedBoard((store) => {
      const id = createTask(store, { title: 'contested' }).task.id;
      return claimOrFail(store, id, { profile: null, leaseMs: 60_000 }).identity;
    });
    expectFailure(db, ['worker', 'review', '--summary', 'not mine'], 1, /the claim lock does not match/, envOf(forged(value), db));
  });
});

describe('worker create: follow-up tasks from inside a run', { timeout: TEST_MS }, () => {
  it('a child of the running task, todo while it runs, follow_up on the parent; with --parent a child of that task instead', async () => {
    const out = tempDir('kanban-followup-out-');
    const board = workerBoard({ placeholder: { command: ['true'] } });
    const other = createTask(board.store, { title: 'Another open task' }).task;
    setProfiles(board, {
      lead: {
        command: steps(
          { kanban: ['worker', 'create', 'Follow-up', '--body', 'B', '--json'], to: join(out, 'own.json') },
          { kanban: ['worker', 'create', 'Elsewhere', '--parent', other.id, '--priority', '3', '--json'], to: join(out, 'other.json') },
          { kanban: ['worker', 'complete', '--summary', 'made two follow-ups'] },
        ),
      },
    });
    const lead = createTask(board.store, { title: 'Lead task', assignee: 'lead' }).task;
    const identity = claimAndStart(board, lead.id);
    expect(await runEnded(board, identity, RUN_MS)).toMatchObject({ outcome: 'completed', exit_code: 0 });

    const own = JSON.parse(readFileSync(join(out, 'own.json'), 'utf8'));
    expect(own).toMatchObject({ title: 'Follow-up', body: 'B', status: 'todo', parents: [lead.id], children: [] });
    const elsewhere = JSON.parse(readFileSync(join(out, 'other.json'), 'utf8'));
    expect(elsewhere).toMatchObject({ title: 'Elsewhere', status: 'todo', parents: [other.id], priority: 3 });

    const followUps = eventsOf(board, lead.id, 'follow_up');
    expect(followUps.map((e) => [e.run_id, e.payload])).toEqual([
      [identity.runId, { task_id: own.id, title: 'Follow-up' }],
      [identity.runId, { task_id: elsewhere.id, title: 'Elsewhere' }],
    ]);
    expect(getTask(board.store, lead.id)).toMatchObject({ status: 'done', children: [own.id] });
    expect(getTask(board.store, own.id).status).toBe('ready'); // its parent finished
    expect(getTask(board.store, elsewhere.id).status).toBe('todo'); // its parent did not
    expect(getTask(board.store, other.id).children).toEqual([elsewhere.id]);
  });

  it('with a stale identity: exit 1 and nothing created; with the current one it works', () => {
    const { db, value } = closedBoard((store) => {
      const id = createTask(store, { title: 'running' }).task.id;
      return claimOrFail(store, id, { profile: null, leaseMs: 60_000 }).identity;
    });
    expectFailure(db, ['worker', 'create', 'Follow-up', '--body', 'B'], 1, /the claim lock does not match/, envOf(forged(value), db));
    expectFailure(db, ['worker', 'create', 'Follow-up', '--json'], 1, /no longer holds the task|does not hold/, envOf({ ...value, runId: value.runId + 1 }, db));
    const created = kanbanJson(db, ['worker', 'create', 'Follow-up', '--body', 'B'], envOf(value, db));
    expect(created).toMatchObject({ title: 'Follow-up', status: 'todo', parents: [value.taskId] });
    const list = kanbanJson<Array<{ title: string }>>(db, ['list']);
    expect(list.map((t) => t.title).sort()).toEqual(['Follow-up', 'running']);
  });

  it('bad input: no title (2), an unknown --parent (3), no identity (2)', () => {
    const { db, value } = closedBoard((store) => {
      const id = createTask(store, { title: 'running' }).task.id;
      return claimOrFail(store, id, { profile: null, leaseMs: 60_000 }).identity;
    });
    expectFailure(db, ['worker', 'create', '   '], 2, /a task needs a title/, envOf(value, db));
    expectFailure(db, ['worker', 'create', 'x', '--parent', 't_0badc0de'], 3, /t_0badc0de/, envOf(value, db));
    expectFailure(db, ['worker', 'create', 'x'], 2, /KANBAN_DB is not set/);
  });
});

describe('worker context', { timeout: TEST_MS }, () => {
  it('from inside a run: the prompt (title, body, a done parent\'s summary, comments), and --json its parts', async () => {
    const out = tempDir('kanban-context-out-');
    const board = workerBoard({
      ctx: {
        command: steps(
          { kanban: ['worker', 'context'], to: join(out, 'context.txt') },
          { kanban: ['worker', 'context', '--json'], to: join(out, 'context.json') },
          { kanban: ['worker', 'complete'] },
        ),
      },
    });
    const parent = createTask(board.store, { title: 'Design the schema' }).task;
    completeTask(board.store, parent.id, 'Tables users and orders; see schema.sql');
    const task = createTask(board.store, { title: 'Write the migration', body: 'Keep the ids stable.', assignee: 'ctx', parents: [parent.id] }).task;
    addComment(board.store, task.id, 'Mind the archived rows');
    const identity = claimAndStart(board, task.id);
    expect(await runEnded(board, identity, RUN_MS)).toMatchObject({ outcome: 'completed' });

    const workspace = join(dirname(board.db), 'workspaces', task.id);
    const text = readFileSync(join(out, 'context.txt'), 'utf8');
    expect(text).toContain('# Write the migration\n\nKeep the ids stable.');
    expect(text).toContain(`### ${parent.id}: Design the schema (done)\nTables users and orders; see schema.sql`);
    expect(text).toMatch(/^- user, .+: Mind the archived rows$/m);
    expect(text).toContain(`Your working directory is ${workspace}.`);
    expect(text).toContain('kanban worker complete --summary');

    const json = JSON.parse(readFileSync(join(out, 'context.json'), 'utf8'));
    expect(json).toMatchObject({ task_id: task.id, run_id: identity.runId, attempt: 1, title: 'Write the migration', body: 'Keep the ids stable.', workspace });
    expect(json.parents).toEqual([expect.objectContaining({ id: parent.id, title: 'Design the schema', status: 'done', summary: 'Tables users and orders; see schema.sql' })]);
    expect(json.comments).toEqual([expect.objectContaining({ task_id: task.id, author: 'user', body: 'Mind the archived rows' })]);
    expect(json.prompt.trimEnd()).toBe(text.trimEnd());
    // The prompt file the run was handed is gone once the run has ended.
    expect(existsSync(join(dirname(board.db), 'prompts', `${task.id}-r${identity.runId}.md`))).toBe(false);
  });

  it('outside a worker (no identity in the environment): exit 2', () => {
    const { db } = closedBoard((store) => createTask(store, { title: 'x' }).task.id);
    expectFailure(db, ['worker', 'context'], 2, /KANBAN_DB is not set: worker commands run inside a worker that kanban started/);
    expectFailure(db, ['worker', 'context', '--json'], 2, /KANBAN_DB is not set/);
  });

  it('with a stale identity: exit 1; after the run has ended too', () => {
    const { db, value } = closedBoard((store) => {
      const id = createTask(store, { title: 'x' }).task.id;
      return claimOrFail(store, id, { profile: null, leaseMs: 60_000 }).identity;
    });
    expectFailure(db, ['worker', 'context'], 1, /the claim lock does not match/, envOf(forged(value), db));
    // the current identity reads (no prompt file: rendered from the board)
    const result = kanban(['--db', db, 'worker', 'context'], envOf(value, db));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('# x');
    expect(kanban(['--db', db, 'complete', value.taskId]).code).toBe(0);
    expectFailure(db, ['worker', 'context', '--json'], 1, /no longer holds the task: it is done/, envOf(value, db));
  });
});
