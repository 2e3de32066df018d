import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HOOKS_CURSOR } from '../../src/dispatcher/steps/hooks.js';
import { runHookProcess, type HookSpawn } from '../../src/hooks/process.js';
import { blockTask } from '../../src/store/lifecycle.js';
import { createTask, getTask, showTask } from '../../src/store/tasks.js';
import { tempDir, cursorOf } from '../helpers/board.js';
import { kanban } from '../helpers/cli.js';
import { startDispatcher, type RunningDispatcher } from '../helpers/dispatcher.js';
import { cleanEnv, fixture } from '../helpers/processes.js';
import { eventsOf, waitFor, worker, workerBoard, type WorkerBoard } from '../helpers/workers.js';

const hook = (...args: string[]) => [process.execPath, fixture('hook.mjs'), ...args];

/** Alive and not a zombie: an orphan killed here may wait a moment for whoever reaps it. */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('one hook process', () => {
  const spec = (argv: string[], more: Partial<HookSpawn> = {}): HookSpawn => ({ argv, stdin: '{}\n', env: cleanEnv(), timeoutMs: 10_000, ...more });

  it('exit 0 is fine; another exit is reported with the last line of its stderr', async () => {
    const out = join(tempDir(), 'out.jsonl');
    expect(await runHookProcess(spec(hook('record', out, 'a b'), { stdin: '{"event":{"id":1}}' }))).toEqual({ ok: true });
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ args: ['a b'], input: { event: { id: 1 } } });
    expect(await runHookProcess(spec(hook('fail', '3', 'no route to \u001b[31mhost')))).toEqual({ ok: false, error: 'exit 3', stderr: 'no route to host' });
  });

  it('a program that does not exist, or a hook that never reads its stdin, is an answer, not a crash', async () => {
    expect(await runHookProcess(spec(['/nonexistent/kanban-hook']))).toEqual({ ok: false, error: 'could not start: ENOENT', stderr: null });
    const big = 'x'.repeat(4 * 1024 * 1024);
    expect(await runHookProcess(spec(['true'], { stdin: big }))).toEqual({ ok: true });
  });

  it('is killed with its whole process group at its timeout, SIGTERM ignored or not', async () => {
    const pids = join(tempDir(), 'pids');
    const exit = await runHookProcess(spec(hook('hang', pids), { timeoutMs: 1000 }));
    expect(exit).toEqual({ ok: false, error: 'timed out after 1s (killed)', stderr: null });
    const [leader, child] = readFileSync(pids, 'utf8').split(' ').map(Number);
    await waitFor('the hook and its child to be gone', () => !running(leader!) && !running(child!), 10_000);
  });
});

const dispatchers: RunningDispatcher[] = [];
afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((d) => d.stop()));
});

function dispatcher(board: WorkerBoard): RunningDispatcher {
  const d = startDispatcher(board);
  dispatchers.push(d);
  return d;
}

interface Recorded {
  args: string[];
  env: Record<string, string>;
  input: { event: { id: number; task_id: string; kind: string; payload: Record<string, unknown>; created_at: number }; task: Record<string, unknown> };
}

function recorded(file: string): Recorded[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Recorded);
}

/** Once a dispatcher has run its first hooks step, the board's hooks cursor exists: events from then on are hooked. */
function hooksStarted(board: WorkerBoard): Promise<unknown> {
  return waitFor('the hooks cursor', () => cursorOf(board.store, HOOKS_CURSOR) !== undefined, 15_000);
}

const queued = (d: RunningDispatcher) => d.ticks.flatMap((t) => t.actions).filter((a) => a.step === 'hooks' && a.action === 'hook_queued').map((a) => a.task_id);
const ticks = (n: number) => new Promise((resolve) => setTimeout(resolve, n * 200 + 500));

describe('hooks run by the dispatcher', () => {
  function hookedBoard(hooks: unknown[]) {
    const out = join(tempDir(), 'hooks.jsonl');
    const profiles = {
      broken: { command: worker('exit', '1') },
      blocker: { command: worker('report', 'block', 'needs a key') },
      done: { command: worker('report', 'complete') },
    };
    const fill = (h: { command: string[] }) => ({ ...h, command: h.command.map((a) => a.replace('OUT', out)) });
    return { out, board: workerBoard(profiles, {}, { hooks: (hooks as Array<{ command: string[] }>).map(fill) }) };
  }

  it('fire once for a task that gives up and one that blocks, with the event and the task as JSON; not again after a restart', async () => {
    const { out, board } = hookedBoard([{ on: ['gave_up', 'blocked'], command: hook('record', 'OUT', '{task_id}', '{kind}', '{title}') }]);
    const first = dispatcher(board);
    await hooksStarted(board);
    const broken = createTask(board.store, { title: 'always fails', assignee: 'broken' }).task;
    const blocked = createTask(board.store, { title: 'needs "a key"; $(rm -rf ~)', assignee: 'blocker' }).task;
    await waitFor('both hooks', () => recorded(out).length >= 2, 30_000);

    const byTask = new Map(recorded(out).map((r) => [r.env.KANBAN_TASK, r]));
    const gaveUp = byTask.get(broken.id)!;
    expect(gaveUp.args).toEqual([broken.id, 'gave_up', 'always fails']);
    expect(gaveUp.input.event).toMatchObject({ task_id: broken.id, kind: 'gave_up', payload: { failures: 2, limit: 2 } });
    expect(gaveUp.input.event.id).toBe(eventsOf(board, broken.id, 'gave_up')[0]!.id);
    expect(gaveUp.input.task).toMatchObject({ id: broken.id, title: 'always fails', status: 'blocked', consecutive_failures: 2, parents: [], children: [] });
    const blockedHook = byTask.get(blocked.id)!;
    expect(blockedHook.args).toEqual([blocked.id, 'blocked', 'needs "a key"; $(rm -rf ~)']); // one argument, never a shell
    expect(blockedHook.input.event).toMatchObject({ kind: 'blocked', payload: { reason: 'needs a key' } });
    expect(blockedHook.input.task).toEqual(showTask(board.store, blocked.id).task);
    expect(blockedHook.env).toMatchObject({ KANBAN_DB: board.db, KANBAN_TASK: blocked.id, KANBAN_EVENT: 'blocked', KANBAN_EVENT_ID: String(blockedHook.input.event.id) });
    expect(blockedHook.env).not.toHaveProperty('KANBAN_RUN_ID');
    expect(blockedHook.env).not.toHaveProperty('KANBAN_CLAIM_LOCK');

    expect(await first.stop()).toBe(0);
    const second = dispatcher(board);
    const probe = createTask(board.store, { title: 'probe', assignee: 'blocker' }).task;
    await waitFor('the probe hook', () => recorded(out).some((r) => r.env.KANBAN_TASK === probe.id), 30_000);
    await ticks(5);
    expect(await second.stop()).toBe(0);
    expect(recorded(out).map((r) => r.env.KANBAN_TASK).sort()).toEqual([broken.id, blocked.id, probe.id].sort());
    expect(queued(second)).toEqual([probe.id]);
  }, 90_000);

  it('two dispatchers on one board run each event hooks once between them', async () => {
    const { out, board } = hookedBoard([{ on: ['blocked'], command: hook('record', 'OUT') }]);
    const pair = [dispatcher(board), dispatcher(board)];
    await hooksStarted(board);
    const ids = Array.from({ length: 6 }, (_, i) => createTask(board.store, { title: `blocks ${i}`, assignee: 'blocker' }).task.id);
    await waitFor('a hook for each', () => ids.every((id) => recorded(out).some((r) => r.env.KANBAN_TASK === id)), 60_000, 100);
    await ticks(10); // a second dispatcher running them again would have by now
    await Promise.all(pair.map((d) => d.stop()));
    expect(recorded(out).map((r) => r.env.KANBAN_TASK).sort()).toEqual([...ids].sort());
    expect(pair.flatMap(queued).sort()).toEqual([...ids].sort());
  }, 120_000);

  it('a hook that hangs is killed at its timeout and one that fails is reported, on stderr and on the task; dispatching goes on', async () => {
    const pids = join(tempDir(), 'pids');
    const { board } = hookedBoard([
      { on: ['blocked'], command: hook('hang', pids), timeout: 1 },
      { on: ['blocked'], command: hook('fail', '3', 'no route to host') },
    ]);
    const d = dispatcher(board);
    await hooksStarted(board);
    const blocked = createTask(board.store, { title: 'blocks', assignee: 'blocker' }).task;
    await waitFor('both failures on stderr', () => d.stderr().includes('timed out') && d.stderr().includes('exit 3'), 30_000);
    expect(d.stderr()).toContain(`kanban: hook "node" for ${blocked.id} blocked: timed out after 1s (killed)\n`);
    expect(d.stderr()).toContain(`kanban: hook "node" for ${blocked.id} blocked: exit 3 (no route to host)\n`);
    const [leader, child] = readFileSync(pids, 'utf8').split(' ').map(Number);
    await waitFor('the hanging hook and its child to be gone', () => !running(leader!) && !running(child!), 10_000);
    await waitFor('both noted on the task', () => eventsOf(board, blocked.id, 'hook_failed').length === 2, 10_000);
    expect(eventsOf(board, blocked.id, 'hook_failed').map((e) => e.payload.error).sort()).toEqual(['exit 3', 'timed out after 1s (killed)']);
    const next = createTask(board.store, { title: 'still dispatched', assignee: 'done' }).task;
    await waitFor('the next task done', () => getTask(board.store, next.id).status === 'done', 30_000);
    expect(d.child.exitCode).toBeNull();
  }, 90_000);

  it('do not replay the history at first start', async () => {
    const { out, board } = hookedBoard([{ on: ['blocked', 'created'], command: hook('record', 'OUT') }]);
    const old = createTask(board.store, { title: 'blocked long ago' }).task;
    blockTask(board.store, old.id, 'history');
    const d = dispatcher(board);
    await hooksStarted(board);
    const probe = createTask(board.store, { title: 'probe', status: 'blocked' }).task;
    await waitFor('the probe hooks', () => recorded(out).filter((r) => r.env.KANBAN_TASK === probe.id).length >= 1, 30_000);
    await ticks(5);
    expect(await d.stop()).toBe(0);
    expect(recorded(out).map((r) => r.env.KANBAN_TASK)).not.toContain(old.id);
    expect(queued(d).every((id) => id === probe.id)).toBe(true);
  }, 60_000);

  it('a bad hook in the config: exit 2 naming the key, before anything runs', () => {
    const { board } = hookedBoard([{ on: ['gave_up', 'gaveup'], command: ['notify-send', '{task_id}'] }]);
    for (const args of [['tui', '--no-ui'], ['dispatch']]) {
      const result = kanban(['--db', board.db, ...args], board.env);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(/^kanban: invalid config .*config\.yaml: hooks\.0\.on\.1: not an event kind hooks run on: "gaveup"/);
    }
  });
});
