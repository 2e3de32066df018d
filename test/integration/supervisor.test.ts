import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { completeTask } from '../../src/store/lifecycle.js';
import { runById, runsForTask } from '../../src/store/runs.js';
import { createTask, getTask, showTask } from '../../src/store/tasks.js';
import { startSupervisor } from '../../src/workers/launch.js';
import { tempDir, claimOrFail, forceTask } from '../helpers/board.js';
import { exited, fixture, isAlive, startUntil } from '../helpers/processes.js';
import { claimAndStart, eventsOf, runEnded, taskLog, TTL_SECONDS, waitFor, worker, workerBoard, type WorkerBoard } from '../helpers/workers.js';
import { sqliteRef } from '../../src/store/sqlite-board.js';

const TTL_MS = TTL_SECONDS * 1000;
/** Worktree workspaces need git; CI machines may have only Node, npm, python3, make and g++. */
const hasGit = spawnSync('git', ['--version']).status === 0;

/** The lease never lapsed: every heartbeat came before the lease it extended had expired. */
function expectLeaseNeverLapsed(board: WorkerBoard, taskId: string, endedAt: number): void {
  const claimed = eventsOf(board, taskId, 'claimed')[0]!;
  let expires = claimed.payload.claim_expires as number;
  const beats = eventsOf(board, taskId, 'heartbeat');
  for (const beat of beats) {
    expect(beat.created_at).toBeLessThan(expires);
    expect(beat.payload.claim_expires as number).toBeGreaterThan(expires);
    expires = beat.payload.claim_expires as number;
  }
  expect(endedAt).toBeLessThan(expires);
}

describe('the supervisor', () => {
  it('runs the profile argv in the workspace with the worker identity, and logs its output', async () => {
    const board = workerBoard({ env: { command: worker('env', '{task_id}', 'run-{run_id}', '{workspace}', '{board}') } });
    const { task } = createTask(board.store, { title: 'env check', assignee: 'env' });
    const identity = claimAndStart(board, task.id);
    const run = await runEnded(board, identity);
    expect(run).toMatchObject({ outcome: 'completed', exit_code: 0, signal: null });
    const workspace = join(dirname(board.db), 'workspaces', task.id);
    const log = taskLog(board, task.id);
    expect(log).toContain(`KANBAN_TASK=${task.id}`);
    expect(log).toContain(`KANBAN_RUN_ID=${identity.runId}`);
    expect(log).toContain(`KANBAN_CLAIM_LOCK=${identity.claimLock}`);
    expect(log).toContain(`KANBAN_DB=${board.db}`);
    expect(log).toContain(`KANBAN_WORKSPACE=${workspace}`);
    expect(log).toContain(`cwd=${workspace}`);
    expect(log).toContain(`argv=${JSON.stringify([task.id, `run-${identity.runId}`, workspace, board.db])}`);
    expect(log).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z \\[r${identity.runId} out\\] cwd=`, 'm'));
    const detail = showTask(board.store, task.id);
    expect(detail.task.status).toBe('done');
    expect(detail.events.map((e) => e.kind)).toEqual(['created', 'claimed', 'spawned', 'heartbeat', 'heartbeat', 'completed', 'workspace_removed']);
    expect(detail.events.slice(3, 5).map((e) => e.payload.source)).toEqual(['spawn', 'bridge']);
    expect(existsSync(workspace)).toBe(false);
  });

  it('passes task text to the worker as one argument, never through a shell', async () => {
    const board = workerBoard({ env: { command: worker('env', '{task_id}; touch pwned', '$(touch pwned2)') } });
    const { task } = createTask(board.store, { title: '`touch pwned3`', assignee: 'env' });
    const run = await runEnded(board, claimAndStart(board, task.id));
    expect(run.outcome).toBe('completed');
    const log = taskLog(board, task.id);
    expect(log).toContain(`argv=${JSON.stringify([`${task.id}; touch pwned`, '$(touch pwned2)'])}`);
  });

  it('1. a worker that heartbeats every TTL/5 for 3× the TTL keeps its task, its lease never lapsing', async () => {
    // Each beat is a `kanban worker heartbeat` process, one after another: the lease lapses if one takes
    // longer than the TTL less the pause between beats. A 5 s TTL leaves 4 s, the machine's margin
    // (a loaded CI machine took 2.4 s once, against the 2.25 s a 3 s TTL at TTL/4 left).
    const ttlSeconds = 5;
    const board = workerBoard({ beater: { command: worker('heartbeat', String((ttlSeconds * 1000) / 5), String(3 * ttlSeconds * 1000)) } }, { KANBAN_CLAIM_TTL_SECONDS: String(ttlSeconds) });
    const { task } = createTask(board.store, { title: 'long run', assignee: 'beater' });
    const identity = claimAndStart(board, task.id, ttlSeconds);
    const run = await runEnded(board, identity, 60_000);
    expect(run).toMatchObject({ outcome: 'completed', exit_code: 0 });
    expect(runsForTask(board.store, task.id)).toHaveLength(1);
    expect(getTask(board.store, task.id).status).toBe('done');
    const [spawn, ...beats] = eventsOf(board, task.id, 'heartbeat');
    expect(spawn!.payload.source).toBe('spawn'); // the supervisor, once the worker has started
    expect(beats.length).toBeGreaterThanOrEqual(3); // beats across the three TTLs (how many, the machine decides: each is a CLI process)
    expect(beats.every((b) => b.payload.source === 'worker' && b.payload.note === 'still working')).toBe(true);
    expectLeaseNeverLapsed(board, task.id, run.ended_at!);
  });

  it('2. a worker that only prints keeps its task through the output bridge', async () => {
    const board = workerBoard({ chatty: { command: worker('chatty', String(TTL_MS / 4), String(3 * TTL_MS)) } });
    const { task } = createTask(board.store, { title: 'busy run', assignee: 'chatty' });
    const identity = claimAndStart(board, task.id);
    const run = await runEnded(board, identity, 30_000);
    expect(run).toMatchObject({ outcome: 'completed', exit_code: 0 });
    expect(runsForTask(board.store, task.id)).toHaveLength(1);
    const [spawn, ...beats] = eventsOf(board, task.id, 'heartbeat');
    expect(spawn!.payload.source).toBe('spawn');
    expect(beats.length).toBeGreaterThanOrEqual(6);
    expect(beats.every((b) => b.payload.source === 'bridge')).toBe(true);
    // At most one bridge heartbeat per bridge interval (0.3 s), although output comes every TTL/4.
    for (let i = 1; i < beats.length; i++) expect(beats[i]!.created_at - beats[i - 1]!.created_at).toBeGreaterThanOrEqual(300);
    expectLeaseNeverLapsed(board, task.id, run.ended_at!);
    // The bridge kept vouching until the worker's last output (then it spent its time completing,
    // which a loaded machine can stretch: the bound is judged from the output, not from the end).
    const lastOutputAt = Date.parse(taskLog(board, task.id).split('\n').filter((line) => / out\] working on step \d+$/.test(line)).at(-1)!.split(' ')[0]!);
    expect(run.last_heartbeat_at!).toBeGreaterThan(lastOutputAt - TTL_MS / 2);
  });

  it('4. exit 75 six times with a failure limit of 1: never blocked, counter 0', async () => {
    const board = workerBoard({ limited: { command: worker('exit', '75') } }, { KANBAN_FAILURE_LIMIT: '1', KANBAN_RATE_LIMIT_COOLDOWN_SECONDS: '120' });
    const { task } = createTask(board.store, { title: 'quota', assignee: 'limited' });
    for (let i = 0; i < 6; i++) {
      const started = Date.now();
      await runEnded(board, claimAndStart(board, task.id));
      const cooldown = eventsOf(board, task.id, 'rate_limited').at(-1)!.payload.cooldown_until as number;
      expect(cooldown).toBeGreaterThanOrEqual(started + 120_000);
      expect(getTask(board.store, task.id)).toMatchObject({ status: 'ready', consecutive_failures: 0 });
    }
    const runs = runsForTask(board.store, task.id);
    expect(runs.map((r) => [r.outcome, r.exit_code])).toEqual(Array(6).fill(['rate_limited', 75]));
    expect(eventsOf(board, task.id, 'gave_up')).toEqual([]);
  });

  it('5. exit 1 twice with the default limit: blocked with gave_up; max_retries 1 trips on the first', async () => {
    const board = workerBoard({ broken: { command: worker('exit', '1') } });
    const { task } = createTask(board.store, { title: 'broken', assignee: 'broken' });
    await runEnded(board, claimAndStart(board, task.id));
    expect(getTask(board.store, task.id)).toMatchObject({ status: 'ready', consecutive_failures: 1 });
    await runEnded(board, claimAndStart(board, task.id));
    expect(getTask(board.store, task.id)).toMatchObject({ status: 'blocked', consecutive_failures: 2 });
    expect(eventsOf(board, task.id, 'gave_up').map((e) => e.payload)).toEqual([{ failures: 2, limit: 2, limit_source: 'default', trigger: 'crashed' }]);

    const { task: fragile } = createTask(board.store, { title: 'fragile', assignee: 'broken', maxRetries: 1 });
    await runEnded(board, claimAndStart(board, fragile.id));
    expect(getTask(board.store, fragile.id)).toMatchObject({ status: 'blocked', consecutive_failures: 1 });
    expect(eventsOf(board, fragile.id, 'gave_up')[0]!.payload).toMatchObject({ limit: 1, limit_source: 'task' });
  });

  it('6. exit 0 without reporting is a protocol_violation; with on_clean_exit: complete it is done', async () => {
    const board = workerBoard({ silent: { command: worker('exit', '0') }, lenient: { command: worker('exit', '0'), on_clean_exit: 'complete' } });
    const strict = createTask(board.store, { title: 'strict', assignee: 'silent' }).task;
    const lenient = createTask(board.store, { title: 'lenient', assignee: 'lenient' }).task;
    expect(await runEnded(board, claimAndStart(board, strict.id))).toMatchObject({ outcome: 'protocol_violation', exit_code: 0 });
    expect(getTask(board.store, strict.id)).toMatchObject({ status: 'ready', consecutive_failures: 1 });
    await waitFor('the log says why', () => /run \d+ ended: protocol_violation \(exited 0 without completing/.test(taskLog(board, strict.id)));
    expect(await runEnded(board, claimAndStart(board, lenient.id))).toMatchObject({ outcome: 'completed', exit_code: 0 });
    expect(getTask(board.store, lenient.id).status).toBe('done');
  });

  it('a worker that reports and then exits: its report stands, its exit code is kept', async () => {
    const board = workerBoard({ reviewer: { command: worker('report', 'block', 'needs a human review', '3') } });
    const { task } = createTask(board.store, { title: 'review me', assignee: 'reviewer' });
    expect(await runEnded(board, claimAndStart(board, task.id))).toMatchObject({ outcome: 'blocked', exit_code: 3 });
    expect(getTask(board.store, task.id)).toMatchObject({ status: 'blocked', status_reason: 'needs a human review', consecutive_failures: 0 });
  });

  it('a worker that completes its task and then exits 0: its log says so, not that it exited without completing', async () => {
    const board = workerBoard({ finisher: { command: worker('report', 'complete', 'all done') } });
    const { task } = createTask(board.store, { title: 'finish me', assignee: 'finisher' });
    expect(await runEnded(board, claimAndStart(board, task.id))).toMatchObject({ outcome: 'completed', exit_code: 0 });
    await waitFor('the log closes the run', () => /had already ended: completed/.test(taskLog(board, task.id)));
    expect(taskLog(board, task.id)).not.toMatch(/without completing/);
  });

  it('7. a worker killed by SIGKILL: crashed, with the signal stored', async () => {
    const board = workerBoard({ hang: { command: worker('hang') } });
    const { task } = createTask(board.store, { title: 'doomed', assignee: 'hang' });
    const identity = claimAndStart(board, task.id);
    const pid = await waitFor('the worker pid', () => getTask(board.store, task.id).worker_pid);
    expect(runById(board.store, task.id, identity.runId)!.worker_pid).toBe(pid);
    process.kill(pid, 'SIGKILL');
    expect(await runEnded(board, identity)).toMatchObject({ outcome: 'crashed', exit_code: null, signal: 'SIGKILL', error: 'killed by SIGKILL' });
    expect(getTask(board.store, task.id)).toMatchObject({ status: 'ready', consecutive_failures: 1, worker_pid: null });
  });

  it('records the exit even when the board is locked past its busy timeout for a while', async () => {
    const board = workerBoard({ hang: { command: worker('hang') } }, { KANBAN_BUSY_TIMEOUT_MS: '500' });
    const { task } = createTask(board.store, { title: 'locked out', assignee: 'hang' });
    const identity = claimAndStart(board, task.id);
    const pid = await waitFor('the worker pid', () => getTask(board.store, task.id).worker_pid);
    await waitFor('the start-up heartbeat', () => eventsOf(board, task.id, 'heartbeat').length > 0);
    const holder = await startUntil('hold-lock.mjs', [board.db, '120000'], 'locked'); // until the supervisor has met it, however slow the machine
    process.kill(pid, 'SIGKILL');
    const refused = /could not record the exit \(board locked\): board .* is locked by another process \(waited 500 ms\); trying again in \d+ ms \(attempt 1\)/;
    await waitFor('the supervisor to meet the lock', () => refused.test(taskLog(board, task.id)));
    holder.kill();
    await exited(holder);
    expect(await runEnded(board, identity)).toMatchObject({ outcome: 'crashed', signal: 'SIGKILL' });
  });

  it('8. the supervisor outlives the process that started it', async () => {
    const board = workerBoard({ chatty: { command: worker('chatty', '200', '1500') } });
    const { task } = createTask(board.store, { title: 'orphaned', assignee: 'chatty' });
    const claim = claimOrFail(board.store, task.id, { profile: 'chatty', leaseMs: TTL_MS });
    const launcher = spawnSync(process.execPath, [fixture('launch-and-exit.mjs'), board.db, task.id, String(claim.identity.runId)], { env: board.env, encoding: 'utf8' });
    expect(launcher.status, launcher.stderr).toBe(0);
    const supervisorPid = Number(launcher.stdout.trim());
    expect(isAlive(supervisorPid)).toBe(true); // alive after its parent exited
    const run = await runEnded(board, claim.identity);
    expect(run).toMatchObject({ outcome: 'completed', supervisor_pid: supervisorPid });
    expect(getTask(board.store, task.id).status).toBe('done');
  });

  it('9. a worker that ignores SIGTERM past its max runtime is killed: timed_out', async () => {
    const board = workerBoard({ stubborn: { command: worker('hang', '--ignore-term') } });
    const { task } = createTask(board.store, { title: 'too slow', assignee: 'stubborn', maxRuntimeSeconds: 1 });
    const identity = claimAndStart(board, task.id, 30);
    const run = await runEnded(board, identity, 20_000);
    expect(run).toMatchObject({ outcome: 'timed_out', signal: 'SIGKILL' });
    expect(run.ended_at! - run.started_at).toBeGreaterThanOrEqual(6000 - 500);
    expect(getTask(board.store, task.id)).toMatchObject({ status: 'ready', consecutive_failures: 1 });
    const log = taskLog(board, task.id);
    expect(log).toContain('ignoring SIGTERM');
    expect(log).toContain('stopping the worker (timeout)');
  });

  describe('10. containment: only a scratch folder strictly inside the workspaces root is ever deleted', () => {
    const cases: Array<[string, (root: string, user: string) => string]> = [
      ['a user directory', (_root, user) => user],
      ['the workspaces root itself', (root) => root],
      ['a path that climbs out with ..', (root, user) => `${root}/../../${user.split('/').at(-1)!}`],
      ['a symlink inside the root that points at a user directory', (root, user) => {
        symlinkSync(user, join(root, 'innocent-link'));
        return join(root, 'innocent-link');
      }],
    ];
    it.each(cases)('%s is kept, with a workspace_kept event', async (_name, pick) => {
      const board = workerBoard({ done: { command: worker('report', 'complete') } });
      const root = join(dirname(board.db), 'workspaces');
      mkdirSync(root, { recursive: true });
      const user = tempDir('kanban-user-');
      writeFileSync(join(user, 'precious.txt'), 'do not delete');
      writeFileSync(join(root, 'other-task-file'), 'also precious');
      const path = pick(root, user);
      const { task } = createTask(board.store, { title: 'scratch', assignee: 'done' });
      forceTask(board.store, task.id, { workspace_path: path });
      await runEnded(board, claimAndStart(board, task.id));
      expect(getTask(board.store, task.id).status).toBe('done');
      await waitFor('the workspace decision', () => eventsOf(board, task.id).find((e) => e.kind.startsWith('workspace_')));
      expect(eventsOf(board, task.id, 'workspace_kept')).toHaveLength(1);
      expect(readFileSync(join(user, 'precious.txt'), 'utf8')).toBe('do not delete');
      expect(readFileSync(join(root, 'other-task-file'), 'utf8')).toBe('also precious');
    });

    it.skipIf(!hasGit)('a worktree workspace is a git worktree on branch kanban/<id>, reused by the next run, and never deleted', async () => {
      const repo = tempDir('kanban-repo-');
      const git = (...args: string[]) => spawnSync('git', args, { cwd: repo, encoding: 'utf8' });
      git('init', '-q', '-b', 'main');
      writeFileSync(join(repo, 'README'), 'hello');
      git('add', '.');
      git('-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'init');
      const board = workerBoard({ env: { command: worker('env') }, fail: { command: worker('exit', '1') } });
      const { task } = createTask(board.store, { title: 'in a worktree', assignee: 'fail', workspace: { kind: 'worktree', path: null } });
      await runEnded(board, claimAndStart(board, task.id, TTL_SECONDS, repo));
      const path = join(dirname(board.db), 'workspaces', task.id);
      expect(getTask(board.store, task.id)).toMatchObject({ status: 'ready', workspace_path: path });
      expect(readFileSync(join(path, 'README'), 'utf8')).toBe('hello');
      expect(spawnSync('git', ['branch', '--show-current'], { cwd: path, encoding: 'utf8' }).stdout.trim()).toBe(`kanban/${task.id}`);
      writeFileSync(join(path, 'work-in-progress.txt'), 'keep me');
      forceTask(board.store, task.id, { assignee: 'env' });
      await runEnded(board, claimAndStart(board, task.id, TTL_SECONDS, repo));
      expect(getTask(board.store, task.id).status).toBe('done');
      expect(readFileSync(join(path, 'work-in-progress.txt'), 'utf8')).toBe('keep me');
      expect(eventsOf(board, task.id).filter((e) => e.kind.startsWith('workspace_'))).toEqual([]);
    });

    it.skipIf(!hasGit)('a worktree workspace outside a git repository is spawn_failed', async () => {
      const board = workerBoard({ env: { command: worker('env') } });
      const { task } = createTask(board.store, { title: 'no repo', assignee: 'env', workspace: { kind: 'worktree', path: null } });
      const run = await runEnded(board, claimAndStart(board, task.id, TTL_SECONDS, tempDir('kanban-norepo-')));
      expect(run).toMatchObject({ outcome: 'spawn_failed', error: expect.stringMatching(/needs a git repository/) });
    });

    it('dir workspaces are never deleted', async () => {
      const board = workerBoard({ done: { command: worker('report', 'complete') } });
      const user = tempDir('kanban-user-');
      writeFileSync(join(user, 'precious.txt'), 'mine');
      const { task } = createTask(board.store, { title: 'in my dir', assignee: 'done', workspace: { kind: 'dir', path: user } });
      await runEnded(board, claimAndStart(board, task.id));
      expect(getTask(board.store, task.id).status).toBe('done');
      expect(readFileSync(join(user, 'precious.txt'), 'utf8')).toBe('mine');
      expect(eventsOf(board, task.id).filter((e) => e.kind.startsWith('workspace_'))).toEqual([]);
    });
  });

  describe('a worker that cannot start', () => {
    it.each([
      ['a program that does not exist', { nope: { command: ['/no/such/program'] } }, 'nope', /cannot start "\/no\/such\/program": ENOENT/],
      ['an assignee with no profile', { other: { command: worker('exit', '0') } }, 'ghost', /no profile named 'ghost' in the config/],
    ] as const)('%s is spawn_failed, not counted (the config\'s fault), and held back a while', async (_name, profiles, assignee, error) => {
      const board = workerBoard(profiles as never);
      const { task } = createTask(board.store, { title: 'cannot run', assignee });
      const run = await runEnded(board, claimAndStart(board, task.id));
      expect(run.outcome).toBe('spawn_failed');
      expect(run.error).toMatch(error);
      expect(getTask(board.store, task.id)).toMatchObject({ status: 'ready', consecutive_failures: 0 });
      const [failed] = eventsOf(board, task.id, 'spawn_failed');
      expect(failed!.payload).toMatchObject({ counted: false, cooldown_until: expect.any(Number) });
      expect(failed!.payload.cooldown_until as number).toBeGreaterThan(run.ended_at!);
    });

    it('a dir workspace that has gone away is spawn_failed, counted (the task\'s own setting)', async () => {
      const board = workerBoard({ any: { command: worker('exit', '0') } });
      const { task } = createTask(board.store, { title: 'lost dir', assignee: 'any', workspace: { kind: 'dir', path: tempDir() } });
      forceTask(board.store, task.id, { workspace_path: '/no/such/dir' });
      expect(await runEnded(board, claimAndStart(board, task.id))).toMatchObject({ outcome: 'spawn_failed', error: expect.stringMatching(/\/no\/such\/dir is not an existing directory/) });
      expect(getTask(board.store, task.id)).toMatchObject({ status: 'ready', consecutive_failures: 1 });
    });
  });

  it('a stale start (the run was taken back before its supervisor began) spawns nothing and counts nothing', async () => {
    const board = workerBoard({ any: { command: worker('report', 'complete') } });
    const { task } = createTask(board.store, { title: 'late', assignee: 'any' });
    const claim = claimOrFail(board.store, task.id, { profile: 'any', leaseMs: TTL_MS });
    completeTask(board.store, task.id, 'done by hand before the worker started');
    const before = showTask(board.store, task.id);
    const supervisor = startSupervisor(sqliteRef(board.db), claim.identity, { env: board.env });
    await waitFor('the supervisor to exit', () => !isAlive(supervisor));
    expect(showTask(board.store, task.id)).toEqual(before);
    expect(taskLog(board, task.id)).toMatch(/stale start, not spawning: run \d+ of t_\w+ no longer holds the task: it is done/);
  });

  it('a run taken away while the worker runs: the next output stops the worker, and its writes are refused', async () => {
    const board = workerBoard({ chatty: { command: worker('chatty', '100', '60000') } });
    const { task } = createTask(board.store, { title: 'taken away', assignee: 'chatty' });
    const identity = claimAndStart(board, task.id, 30);
    const pid = await waitFor('the worker pid', () => getTask(board.store, task.id).worker_pid);
    completeTask(board.store, task.id, 'done by hand');
    const run = await runEnded(board, identity);
    expect(run).toMatchObject({ outcome: 'completed', signal: 'SIGTERM' });
    expect(isAlive(pid)).toBe(false);
    expect(getTask(board.store, task.id)).toMatchObject({ status: 'done', summary: 'done by hand' });
  });
});
