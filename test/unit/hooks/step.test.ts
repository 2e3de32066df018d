import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { HOOK_MAX_AGE_MS, HOOKS_CURSOR, hooksStep, stopHooks } from '../../../src/dispatcher/steps/hooks.js';
import { tickContext, type TickOptions } from '../../../src/dispatcher/tick.js';
import type { HookExit, HookSpawn } from '../../../src/hooks/process.js';
import { HookRunner } from '../../../src/hooks/runner.js';
import type { Store } from '../../../src/store/db.js';
import { SqliteBoard } from '../../../src/store/sqlite-board.js';
import { blockTask, completeTask } from '../../../src/store/lifecycle.js';
import { createTask, showTask } from '../../../src/store/tasks.js';
import { manualClock, testStore, type ManualClock, cursorOf } from '../../helpers/board.js';
import { recentEvents } from '../../../src/store/events.js';

/**
 * The hooks step with the clock moved and hook processes replaced by a recorder whose answers the
 * test gives: which events are taken, once, what each hook is handed, what is reported. Real hook
 * processes and dispatchers are in test/integration/hooks.test.ts.
 */
function hooksConfig(hooks: unknown[]) {
  return parseConfig(JSON.stringify({ hooks }), 'test.yaml');
}

interface Call {
  spec: HookSpawn;
  answer(exit: HookExit): void;
}

function recorder(options: { concurrency?: number; queueLimit?: number } = {}) {
  const calls: Call[] = [];
  const runner = new HookRunner({
    ...options,
    run: (spec) => new Promise<HookExit>((resolve) => calls.push({ spec, answer: resolve })),
  });
  return { calls, runner };
}

async function step(store: Store, clock: ManualClock, config: ReturnType<typeof hooksConfig>, more: TickOptions = {}) {
  return (await hooksStep(tickContext(new SqliteBoard(store), config, clock, more))).map((a) => `${a.action}:${a.task_id}${a.detail ? `:${a.detail}` : ''}`);
}

const cursor = (store: Store) => cursorOf(store, HOOKS_CURSOR);
const latestEvent = (store: Store) => recentEvents(store, { last: 1 }).cursor;
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('the hooks step', () => {
  const config = hooksConfig([{ on: ['blocked', 'gave_up'], command: ['notify', '{task_id} {kind}', '{title}', '{event_id}', '{other}'] }]);

  it('first starts the cursor at the latest event: the history runs no hook', async () => {
    const clock = manualClock();
    const store = testStore(clock);
    const { task } = createTask(store, { title: 'old news' });
    blockTask(store, task.id, 'long ago');
    const { calls, runner } = recorder();
    expect(await step(store, clock, config, { hooks: runner })).toEqual([]);
    expect(cursor(store)).toBe(latestEvent(store));
    expect(await step(store, clock, config, { hooks: runner })).toEqual([]);
    expect(calls).toHaveLength(0);
  });

  it('queues each matching event once, with argv filled in, the event and its task on stdin, KANBAN_* in the environment', async () => {
    const clock = manualClock();
    const store = testStore(clock);
    const { calls, runner } = recorder();
    await step(store, clock, config, { hooks: runner }); // starts the cursor
    const { task } = createTask(store, { title: 'Ship it; rm -rf /' });
    const other = createTask(store, { title: 'fine' }).task;
    blockTask(store, task.id, 'needs a key');
    completeTask(store, other.id); // not a kind the hook is on
    const blockedEvent = showTask(store, task.id).events.find((e) => e.kind === 'blocked')!;

    expect(await step(store, clock, config, { hooks: runner })).toEqual([`hook_queued:${task.id}:notify on blocked`]);
    expect(cursor(store)).toBe(latestEvent(store)); // past the events no hook is on, too
    expect(calls).toHaveLength(1);
    const { spec } = calls[0]!;
    expect(spec.argv).toEqual(['notify', `${task.id} blocked`, 'Ship it; rm -rf /', String(blockedEvent.id), '{other}']);
    expect(spec.timeoutMs).toBe(10_000);
    expect(JSON.parse(spec.stdin)).toEqual({ event: blockedEvent, task: showTask(store, task.id).task });
    expect(spec.env).toMatchObject({ KANBAN_DB: store.path, KANBAN_TASK: task.id, KANBAN_EVENT: 'blocked', KANBAN_EVENT_ID: String(blockedEvent.id) });
    expect(await step(store, clock, config, { hooks: runner })).toEqual([]);
    expect(calls).toHaveLength(1);
  });

  it('never hands a hook a run identity from its own environment', async () => {
    const clock = manualClock();
    const store = testStore(clock);
    const { calls, runner } = recorder();
    await step(store, clock, config, { hooks: runner });
    blockTask(store, createTask(store, { title: 'x' }).task.id);
    const identity = { KANBAN_RUN_ID: '7', KANBAN_CLAIM_LOCK: 'h:1:ab', KANBAN_WORKSPACE: '/w', KANBAN_RUN_CONFIG: '{}' };
    const saved = Object.keys(identity).map((name) => [name, process.env[name]] as const);
    Object.assign(process.env, identity);
    try {
      await step(store, clock, config, { hooks: runner });
    } finally {
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    for (const name of Object.keys(identity)) expect(calls[0]!.spec.env).not.toHaveProperty(name);
  });

  it('runs every hook an event matches; an event older than an hour runs none, and says so', async () => {
    const clock = manualClock();
    const store = testStore(clock);
    const twice = hooksConfig([
      { on: ['blocked'], command: ['/usr/bin/first'] },
      { on: ['gave_up', 'blocked'], command: ['second'], timeout: '2s' },
    ]);
    const { calls, runner } = recorder();
    await step(store, clock, twice, { hooks: runner });
    const late = createTask(store, { title: 'late' }).task;
    blockTask(store, late.id);
    clock.advance(HOOK_MAX_AGE_MS + 60_000);
    const fresh = createTask(store, { title: 'fresh' }).task;
    blockTask(store, fresh.id);
    expect(await step(store, clock, twice, { hooks: runner })).toEqual([
      `hook_skipped:${late.id}:hook "first" for ${late.id} blocked: the event is 61 minutes old`,
      `hook_skipped:${late.id}:hook "second" for ${late.id} blocked: the event is 61 minutes old`,
      `hook_queued:${fresh.id}:first on blocked`,
      `hook_queued:${fresh.id}:second on blocked`,
    ]);
    expect(calls.map((c) => [c.spec.argv[0], c.spec.timeoutMs])).toEqual([
      ['/usr/bin/first', 10_000],
      ['second', 2000],
    ]);
  });

  it('runs at most `concurrency` at once, queues up to its limit and drops the rest, reported', async () => {
    const clock = manualClock();
    const store = testStore(clock);
    const { calls, runner } = recorder({ concurrency: 2, queueLimit: 1 });
    await step(store, clock, config, { hooks: runner });
    const ids = [1, 2, 3, 4].map((n) => createTask(store, { title: `t${n}` }).task.id);
    for (const id of ids) blockTask(store, id);
    expect(await step(store, clock, config, { hooks: runner })).toEqual([
      `hook_queued:${ids[0]}:notify on blocked`,
      `hook_queued:${ids[1]}:notify on blocked`,
      `hook_queued:${ids[2]}:notify on blocked`,
      `hook_dropped:${ids[3]}:hook "notify" for ${ids[3]} blocked: dropped, too many hooks waiting`,
    ]);
    expect(calls).toHaveLength(2);
    expect(runner.pending).toBe(3);
    calls[0]!.answer({ ok: true });
    await settle();
    expect(calls).toHaveLength(3); // the waiting one took the free place
    expect(calls[2]!.spec.env.KANBAN_TASK).toBe(ids[2]);
  });

  it('reports a failed hook at the next tick and notes it on the task (hook_failed), without its stderr; never again', async () => {
    const clock = manualClock();
    const store = testStore(clock);
    const { calls, runner } = recorder();
    await step(store, clock, config, { hooks: runner });
    const { task } = createTask(store, { title: 'x' });
    blockTask(store, task.id);
    await step(store, clock, config, { hooks: runner });
    calls[0]!.answer({ ok: false, error: 'exit 3', stderr: 'token=abc rejected' });
    await settle();
    const blocked = showTask(store, task.id).events.find((e) => e.kind === 'blocked')!;
    expect(await step(store, clock, config, { hooks: runner })).toEqual([`hook_failed:${task.id}:hook "notify" for ${task.id} blocked: exit 3 (token=abc rejected)`]);
    const noted = showTask(store, task.id).events.filter((e) => e.kind === 'hook_failed');
    expect(noted.map((e) => e.payload)).toEqual([{ hook: 'notify', event_id: blocked.id, event_kind: 'blocked', error: 'exit 3' }]);
    expect(await step(store, clock, config, { hooks: runner })).toEqual([]);
    expect(calls).toHaveLength(1); // not retried, and hook_failed runs no hook
  });

  it('leaves the cursor alone without hooks in the config, in a dry run and in a one-shot tick', async () => {
    const clock = manualClock();
    const store = testStore(clock);
    const { calls, runner } = recorder();
    blockTask(store, createTask(store, { title: 'x' }).task.id);
    expect(await step(store, clock, hooksConfig([]), { hooks: runner })).toEqual([]);
    expect(await step(store, clock, config, { hooks: runner, dryRun: true })).toEqual([]);
    expect(await step(store, clock, config)).toEqual([]);
    expect(cursor(store)).toBeUndefined();
    expect(calls).toHaveLength(0);
  });

  it('when the dispatcher stops: the waiting hooks are dropped, the running ones waited for and their failures noted', async () => {
    const clock = manualClock();
    const store = testStore(clock);
    const { calls, runner } = recorder({ concurrency: 1 });
    await step(store, clock, config, { hooks: runner });
    const ids = [1, 2, 3].map((n) => createTask(store, { title: `t${n}` }).task.id);
    for (const id of ids) blockTask(store, id);
    await step(store, clock, config, { hooks: runner });
    const stopping = stopHooks(new SqliteBoard(store), runner);
    expect(runner.submit({ name: 'late', taskId: ids[0]!, eventId: 1, kind: 'blocked', spawn: calls[0]!.spec })).toBe(false);
    calls[0]!.answer({ ok: false, error: 'timed out after 10s (killed)', stderr: null });
    expect(await stopping).toEqual([`hook "notify" for ${ids[0]} blocked: timed out after 10s (killed)`, '2 hooks still waiting when the dispatcher stopped did not run']);
    expect(showTask(store, ids[0]!).events.filter((e) => e.kind === 'hook_failed')).toHaveLength(1);
    expect(calls).toHaveLength(1);
  });
});
