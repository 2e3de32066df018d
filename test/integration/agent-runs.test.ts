import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { completeTask } from '../../src/store/lifecycle.js';
import { runsForTask } from '../../src/store/runs.js';
import { createTask, getTask } from '../../src/store/tasks.js';
import type { RunIdentity } from '../../src/core/run.js';
import type { RunRow } from '../../src/core/types.js';
import { taskLogPath } from '../../src/workers/runlog.js';
import { tempDir, forceTask } from '../helpers/board.js';
import { kanban, kanbanJson } from '../helpers/cli.js';
import { startDispatcher, type RunningDispatcher } from '../helpers/dispatcher.js';
import { fixture } from '../helpers/processes.js';
import { claimAndStart, eventsOf, runEnded, taskLog, waitFor, worker, workerBoard, type WorkerBoard } from '../helpers/workers.js';

/** Generous: every run starts several node processes, and the machine may be loaded. */
const RUN_MS = 60_000;
const TEST_MS = 120_000;
/** Lease for runs started without a dispatcher: long enough never to matter here. */
const LEASE_SECONDS = 600;

/** A worker that does these steps (test/fixtures/workers/steps.mjs), as a profile's command. */
const steps = (...list: object[]) => worker('steps', ...list.map((step) => JSON.stringify(step)));

/** A stand-in for Claude Code (reads the prompt on stdin, prints stream-json): the profile's `bin`. */
const FAKE_CLAUDE = fixture('workers/fake-claude.mjs');

/** workerBoard with profiles of any shape (agents, idle_timeout, rate_limit, exit_codes …). */
function board(profiles: Record<string, Record<string, unknown>>, env: Record<string, string> = {}): WorkerBoard {
  return workerBoard(profiles as unknown as Parameters<typeof workerBoard>[0], env);
}

/** Claims the task, starts its supervisor and waits for the run to end (failing with the task's log). */
async function run(b: WorkerBoard, taskId: string): Promise<RunRow> {
  return endOf(b, claimAndStart(b, taskId, LEASE_SECONDS));
}

async function endOf(b: WorkerBoard, identity: RunIdentity): Promise<RunRow> {
  try {
    return await runEnded(b, identity, RUN_MS);
  } catch (err) {
    const log = existsSync(taskLogPath(dirname(b.db), identity.taskId)) ? taskLog(b, identity.taskId) : '(no log)';
    throw new Error(`${(err as Error).message}\nevents: ${JSON.stringify(eventsOf(b, identity.taskId).map((e) => [e.kind, e.payload]))}\nlog:\n${log}`);
  }
}

const running: RunningDispatcher[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop()));
});

describe('idle timeout', { timeout: TEST_MS }, () => {
  it('a worker that prints once and then goes silent is stopped: hung, counted', async () => {
    const b = board({ quiet: { command: worker('hang'), idle_timeout: 1 } });
    const { task } = createTask(b.store, { title: 'goes quiet', assignee: 'quiet' });
    const ended = await run(b, task.id);
    expect(ended).toMatchObject({ outcome: 'hung', exit_code: null, signal: 'SIGTERM' });
    expect(ended.error).toBe('no output and no heartbeat for 1s: stopped (SIGTERM)');
    expect(getTask(b.store, task.id)).toMatchObject({ status: 'ready', consecutive_failures: 1, claim_lock: null, worker_pid: null });
    expect(eventsOf(b, task.id, 'hung').map((e) => e.payload)).toEqual([
      { exit_code: null, signal: 'SIGTERM', error: 'no output and no heartbeat for 1s: stopped (SIGTERM)', failures: 1, limit: 2 },
    ]);
    const log = taskLog(b, task.id);
    expect(log).toContain('hanging as');
    expect(log).toContain('stopping the worker (idle)');
  });

  it('hung twice: the breaker blocks the task', async () => {
    const b = board({ quiet: { command: worker('hang'), idle_timeout: '1s' } });
    const { task } = createTask(b.store, { title: 'always quiet', assignee: 'quiet' });
    await run(b, task.id);
    await run(b, task.id);
    expect(getTask(b.store, task.id)).toMatchObject({ status: 'blocked', consecutive_failures: 2, status_reason: 'gave up after 2 failures (last: hung)' });
  });

  it('a worker that prints nothing but keeps calling `kanban worker heartbeat` is not hung', async () => {
    // Silent for 12 s with an idle timeout of 5 s; a heartbeat every second, each call started
    // without waiting for the one before, so a slow CLI on a loaded machine does not stretch the gaps.
    // Not more often: forty CLIs in twelve seconds were themselves what stalled a loaded 2-core
    // machine past the timeout.
    const b = board({
      beating: {
        command: steps(
          { kanban: ['worker', 'heartbeat', '--note', 'starting'] },
          { out: 'quiet from now on' },
          { beat: 1000, for: 12_000 },
          { out: 'talking again' },
          { kanban: ['worker', 'complete', '--summary', 'quiet but alive'] },
        ),
        idle_timeout: 5,
      },
    });
    const { task } = createTask(b.store, { title: 'quiet but alive', assignee: 'beating' });
    const ended = await run(b, task.id);
    expect(ended).toMatchObject({ outcome: 'completed', summary: 'quiet but alive', exit_code: 0 });
    expect(getTask(b.store, task.id)).toMatchObject({ status: 'done', consecutive_failures: 0 });
    const log = taskLog(b, task.id);
    expect(log).not.toContain('stopping the worker');
    // The silence really was longer than the idle timeout, and heartbeats filled it.
    const at = (text: string) => Date.parse(log.split('\n').find((line) => line.endsWith(` out] ${text}`))!.split(' ')[0]!);
    expect(at('talking again') - at('quiet from now on')).toBeGreaterThan(5000);
    const beats = eventsOf(b, task.id, 'heartbeat').filter((e) => e.payload.note === 'quiet work');
    expect(beats.length).toBeGreaterThan(5);
  });
});

describe('command profiles: rate_limit patterns, exit codes, last words', { timeout: TEST_MS }, () => {
  it('a rate_limit pattern on stderr: rate_limited, the counter untouched, the cooldown the worker reported', async () => {
    const b = board({
      limited: { command: steps({ err: 'starting' }, { err: 'quota exceeded, try again in 30 seconds' }, { exit: 1 }), rate_limit: ['quota exceeded'] },
    });
    const { task } = createTask(b.store, { title: 'quota', assignee: 'limited' });
    forceTask(b.store, task.id, { consecutive_failures: 1 }); // test setup: one earlier failure
    const ended = await run(b, task.id);
    expect(ended).toMatchObject({ outcome: 'rate_limited', exit_code: 1 });
    expect(ended.error).toBe('rate limited (exited 1): quota exceeded, try again in 30 seconds (matched rate_limit /quota exceeded/)');
    expect(getTask(b.store, task.id)).toMatchObject({ status: 'ready', consecutive_failures: 1 });
    const [event] = eventsOf(b, task.id, 'rate_limited');
    expect(Math.abs((event!.payload.cooldown_until as number) - (ended.ended_at! + 30_000))).toBeLessThan(2000);
    expect(eventsOf(b, task.id, 'crashed')).toEqual([]);
  });

  it('without a matching pattern the same failure is a crash', async () => {
    const b = board({ limited: { command: steps({ err: 'disk full' }, { exit: 1 }), rate_limit: ['quota exceeded'] } });
    const { task } = createTask(b.store, { title: 'disk', assignee: 'limited' });
    expect(await run(b, task.id)).toMatchObject({ outcome: 'crashed', error: 'exited 1: disk full' });
    expect(getTask(b.store, task.id).consecutive_failures).toBe(1);
  });

  it('exit_codes {"3": blocked}: the task is blocked with the worker\'s words, and stays blocked', async () => {
    const b = board({ picky: { command: steps({ err: 'the repository is archived' }, { exit: 3 }), exit_codes: { '3': 'blocked' } } });
    const { task } = createTask(b.store, { title: 'push', assignee: 'picky' });
    const ended = await run(b, task.id);
    expect(ended).toMatchObject({ outcome: 'blocked', exit_code: 3 });
    const blocked = getTask(b.store, task.id);
    expect(blocked).toMatchObject({ status: 'blocked', consecutive_failures: 0 });
    expect(blocked.status_reason).toBe('the repository is archived'); // the worker's words, not "credentials refused"
    expect(ended.error).toBe('blocked (exited 3): the repository is archived');
    expect(eventsOf(b, task.id, 'blocked').map((e) => e.payload)).toEqual([expect.objectContaining({ sticky: true, source: 'supervisor', exit_code: 3 })]);

    for (let i = 0; i < 2; i++) {
      const tick = kanban(['--db', b.db, 'dispatch', '--json'], b.env);
      expect(tick.code, tick.stderr).toBe(0);
      expect(JSON.parse(tick.stdout).actions).toEqual([]);
    }
    expect(getTask(b.store, task.id).status).toBe('blocked');
    expect(runsForTask(b.store, task.id)).toHaveLength(1);
  });

  it('exit_codes {"4": completed}: done without reporting', async () => {
    const b = board({ odd: { command: steps({ exit: 4 }), exit_codes: { '4': 'completed' } } });
    const { task } = createTask(b.store, { title: 'odd', assignee: 'odd' });
    expect(await run(b, task.id)).toMatchObject({ outcome: 'completed', exit_code: 4 });
    expect(getTask(b.store, task.id).status).toBe('done');
  });

  it('on_clean_exit: review — exit 0 without reporting sends the task to review', async () => {
    const b = board({ quiet: { command: steps({ out: 'did the work' }), on_clean_exit: 'review' } });
    const { task } = createTask(b.store, { title: 'check me', assignee: 'quiet' });
    expect(await run(b, task.id)).toMatchObject({ outcome: 'review', exit_code: 0, error: null });
    expect(getTask(b.store, task.id)).toMatchObject({ status: 'review', consecutive_failures: 0 });
    expect(eventsOf(b, task.id, 'review')[0]!.payload).toMatchObject({ from: 'running', source: 'clean_exit' });
  });

  it('a Python traceback on stderr: the run\'s error carries its last line', async () => {
    const b = board({
      py: {
        command: steps(
          { out: 'loading' },
          { err: 'Traceback (most recent call last):' },
          { err: '  File "worker.py", line 12, in <module>' },
          { err: '    raise ValueError("bad thing")' },
          { err: 'ValueError: bad thing' },
          { exit: 1 },
        ),
      },
    });
    const { task } = createTask(b.store, { title: 'python', assignee: 'py' });
    const ended = await run(b, task.id);
    expect(ended).toMatchObject({ outcome: 'crashed', exit_code: 1 });
    expect(ended.error).toContain('ValueError: bad thing');
    expect(eventsOf(b, task.id, 'crashed')[0]!.payload.error).toContain('ValueError: bad thing');
    expect(getTask(b.store, task.id)).toMatchObject({ status: 'ready', consecutive_failures: 1 });
  });
});

describe('a Claude Code agent profile (a fake claude as `bin`)', { timeout: TEST_MS }, () => {
  function claudeBoard(mode: string, more: Record<string, unknown> = {}) {
    const records = tempDir('kanban-fake-claude-');
    const b = board(
      {
        coder: {
          agent: 'claude',
          bin: FAKE_CLAUDE,
          model: 'opus',
          env: { FAKE_CLAUDE_MODE: mode, FAKE_CLAUDE_RECORD_DIR: records, ANTHROPIC_BASE_URL: 'http://127.0.0.1:9' },
          ...more,
        },
      },
      { KANBAN_RATE_LIMIT_COOLDOWN_SECONDS: '45' },
    );
    const record = (taskId: string, runId: number) => JSON.parse(readFileSync(join(records, `${taskId}-r${runId}.json`), 'utf8'));
    return { b, record };
  }

  it('success: done with the answer as summary; the prompt on stdin has the title, body and the parent\'s summary', async () => {
    const { b, record } = claudeBoard('success');
    const parent = createTask(b.store, { title: 'Design the schema' }).task;
    completeTask(b.store, parent.id, 'Tables users and orders; see schema.sql');
    const { task } = createTask(b.store, { title: 'Write the migration', body: 'Keep the ids stable.', assignee: 'coder', parents: [parent.id] });
    const identity = claimAndStart(b, task.id, LEASE_SECONDS);
    const ended = await endOf(b, identity);
    expect(ended).toMatchObject({ outcome: 'completed', summary: 'All done', exit_code: 0, error: null });
    expect(getTask(b.store, task.id)).toMatchObject({ status: 'done', summary: 'All done' });

    const seen = record(task.id, identity.runId);
    expect(seen.argv).toEqual(['-p', '--output-format', 'stream-json', '--verbose', '--dangerously-skip-permissions', '--model', 'opus']);
    expect(seen.prompt).toContain('# Write the migration\n\nKeep the ids stable.');
    expect(seen.prompt).toContain(`### ${parent.id}: Design the schema (done)\nTables users and orders; see schema.sql`);
    expect(seen.prompt).toContain('end with a short summary of what you did'); // an agent's answer is its summary
    expect(seen.env).toMatchObject({ CLAUDE_CODE_MAX_RETRIES: expect.stringMatching(/^\d+$/), DISABLE_TELEMETRY: '1', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9', KANBAN_TASK: task.id });
  });

  it('on_success: review sends the answer to the review lane', async () => {
    const { b } = claudeBoard('success', { on_success: 'review' });
    const { task } = createTask(b.store, { title: 'Review me', assignee: 'coder' });
    expect(await run(b, task.id)).toMatchObject({ outcome: 'review', summary: 'All done' });
    expect(getTask(b.store, task.id)).toMatchObject({ status: 'review', summary: 'All done' });
  });

  it('API error 429: rate_limited, not counted, the default cooldown', async () => {
    const { b } = claudeBoard('429');
    const { task } = createTask(b.store, { title: 'Busy API', assignee: 'coder' });
    const ended = await run(b, task.id);
    expect(ended).toMatchObject({ outcome: 'rate_limited', exit_code: 1 });
    expect(ended.error).toContain('rate_limit_error');
    expect(getTask(b.store, task.id)).toMatchObject({ status: 'ready', consecutive_failures: 0 });
    const cooldown = eventsOf(b, task.id, 'rate_limited')[0]!.payload.cooldown_until as number;
    expect(Math.abs(cooldown - (ended.ended_at! + 45_000))).toBeLessThan(2000);
  });

  it('401 invalid API key: blocked (sticky, not counted), the reason names the profile\'s credentials', async () => {
    const { b } = claudeBoard('401');
    const { task } = createTask(b.store, { title: 'Bad key', assignee: 'coder' });
    const ended = await run(b, task.id);
    expect(ended).toMatchObject({ outcome: 'blocked', exit_code: 1 });
    expect(ended.error).toContain('Invalid API key');
    const blocked = getTask(b.store, task.id);
    expect(blocked).toMatchObject({ status: 'blocked', consecutive_failures: 0 });
    expect(blocked.status_reason).toMatch(/^the credentials of profile coder were refused: .*Invalid API key/);
    const tick = kanban(['--db', b.db, 'dispatch', '--json'], b.env);
    expect(tick.code, tick.stderr).toBe(0);
    expect(JSON.parse(tick.stdout).actions).toEqual([]);
    expect(getTask(b.store, task.id).status).toBe('blocked');
    expect(runsForTask(b.store, task.id)).toHaveLength(1);
  });

  it('an error that is neither a limit nor credentials: crashed, counted, with what it said', async () => {
    const { b } = claudeBoard('crash');
    const { task } = createTask(b.store, { title: 'Broken', assignee: 'coder' });
    const ended = await run(b, task.id);
    expect(ended).toMatchObject({ outcome: 'crashed', exit_code: 1 });
    expect(ended.error).toContain("TypeError: Cannot read properties of undefined (reading 'content')");
    expect(getTask(b.store, task.id)).toMatchObject({ status: 'ready', consecutive_failures: 1 });
  });
});

describe('the dispatcher hands its supervisors the config it validated', { timeout: TEST_MS }, () => {
  it('an invalid edit of the config: runs go on with the previous one, said once; a good edit is in force again', async () => {
    const out = tempDir('kanban-config-out-');
    const b = board({
      old: {
        command: steps({ env: 'KANBAN_RUN_CONFIG', to: join(out, 'handed-{task_id}.txt') }, { kanban: ['worker', 'complete', '--summary', 'ran with the old profile'] }),
      },
    });
    const config = b.env.KANBAN_CONFIG!;
    const d = startDispatcher(b);
    running.push(d);
    await waitFor('the dispatcher to start', () => d.stderr().includes('kanban: dispatching'), RUN_MS);

    // An unknown key, and the profile's command changed: neither may reach a run.
    writeFileSync(config, JSON.stringify({ profiles: { old: { command: ['false'], colour: 'blue' } } }));
    await waitFor('the dispatcher to see the bad config', () => d.stderr().includes('keeping the previous config'), RUN_MS);
    expect(d.stderr()).toMatch(/kanban: invalid config .*config\.yaml: unknown key profiles\.old\.colour \(keeping the previous config\)/);

    const first = createTask(b.store, { title: 'under the old config', assignee: 'old' }).task;
    await waitFor('the task to be done', () => getTask(b.store, first.id).status === 'done', RUN_MS);
    expect(getTask(b.store, first.id).summary).toBe('ran with the old profile');
    expect(runsForTask(b.store, first.id).map((r) => r.outcome)).toEqual(['completed']);
    expect(readFileSync(join(out, `handed-${first.id}.txt`), 'utf8')).toBe('<unset>'); // the supervisor's, not the worker's
    expect(d.stderr().match(/keeping the previous config/g)).toHaveLength(1); // once, not every tick

    // Not YAML at all: said once more.
    writeFileSync(config, 'profiles: [unclosed');
    await waitFor('the second bad version', () => (d.stderr().match(/keeping the previous config/g) ?? []).length === 2, RUN_MS);
    expect(d.stderr()).toMatch(/not YAML/);

    // Fixed, with a new profile: in force again.
    writeFileSync(config, JSON.stringify({ profiles: { fresh: { command: steps({ kanban: ['worker', 'complete', '--summary', 'ran with the new profile'] }) } } }));
    await waitFor('the good version', () => d.stderr().includes('is valid again: now in force'), RUN_MS);
    const second = createTask(b.store, { title: 'under the new config', assignee: 'fresh' }).task;
    await waitFor('the second task to be done', () => getTask(b.store, second.id).status === 'done', RUN_MS);
    expect(getTask(b.store, second.id).summary).toBe('ran with the new profile');
    expect(d.stderr().match(/valid again/g)).toHaveLength(1);
  });
});

describe('promote --force', { timeout: TEST_MS }, () => {
  it('a child forced ready while its parent is blocked is run by dispatch, not demoted back to todo', async () => {
    const b = board({ ok: { command: steps({ kanban: ['worker', 'complete', '--summary', 'ran while A was blocked'] }) } });
    const a = createTask(b.store, { title: 'A', status: 'blocked', assignee: 'ok' }).task;
    const child = createTask(b.store, { title: 'B', assignee: 'ok', parents: [a.id] }).task;
    expect([a.status, child.status]).toEqual(['blocked', 'todo']);

    const refused = kanban(['--db', b.db, 'promote', child.id], b.env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`kanban: cannot promote ${child.id}: parent ${a.id} is not done (blocked) (--force promotes anyway)\n`);

    expect(kanbanJson(b.db, ['promote', child.id, '--force'], b.env)).toMatchObject({ id: child.id, status: 'ready' });
    expect(eventsOf(b, child.id, 'promoted_manual').map((e) => e.payload)).toEqual([{ from: 'todo', to: 'ready', forced: true, unfinished_parents: [a.id] }]);

    const tick = kanbanJson(b.db, ['dispatch'], b.env);
    expect(tick.actions).toEqual([expect.objectContaining({ step: 'spawn', action: 'spawned', task_id: child.id })]);
    await waitFor('B to be done', () => getTask(b.store, child.id).status === 'done', RUN_MS);
    expect(getTask(b.store, child.id).summary).toBe('ran while A was blocked');
    expect(eventsOf(b, child.id, 'demoted')).toEqual([]);
    expect(getTask(b.store, a.id).status).toBe('blocked');
    expect(runsForTask(b.store, a.id)).toEqual([]);
  });
});
