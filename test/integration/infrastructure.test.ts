import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.js';
import { runsForTask } from '../../src/store/runs.js';
import { createTask, getTask } from '../../src/store/tasks.js';
import { kanban } from '../helpers/cli.js';
import { tempDir, rowCount, integrityOk } from '../helpers/board.js';
import { startDispatcher, type RunningDispatcher } from '../helpers/dispatcher.js';
import { exited, fixture, startUntil } from '../helpers/processes.js';
import { eventsOf, taskLog, waitFor, workerBoard, type WorkerBoard } from '../helpers/workers.js';
import { writeLockProbe } from '../helpers/sqlite-hooks.js';

/**
 * Faults of the board or the machine are not the task's: real locks held by another process, a real
 * read-only mount over the board's folder. No task may be charged for them.
 */
const running: RunningDispatcher[] = [];
const mounts: string[] = [];
afterEach(async () => {
  for (const dir of mounts.splice(0)) spawnSync('umount', ['-l', dir]);
  await Promise.all(running.splice(0).map((d) => d.stop()));
});

/**
 * Mounts `dir` read-only over itself: made read-only aside, where nothing writes (a mount with open
 * writers cannot become read-only), then moved over the folder. What is open stays writable; what
 * opens next fails with EROFS, as on a disk remounted read-only. False when mounts cannot be made
 * here (not root). Undone by `writable` or after the test.
 */
function readOnly(dir: string): boolean {
  const staging = tempDir('kanban-ro-');
  if (spawnSync('mount', ['--bind', dir, staging]).status !== 0) return false;
  mounts.push(staging);
  expect(spawnSync('mount', ['-o', 'remount,ro,bind', staging]).status).toBe(0);
  expect(spawnSync('mount', ['--move', staging, dir]).status).toBe(0);
  mounts.splice(mounts.indexOf(staging), 1, dir);
  return true;
}

function writable(dir: string): void {
  expect(spawnSync('umount', [dir]).status).toBe(0);
  mounts.splice(mounts.indexOf(dir), 1);
}

function dispatcher(board: WorkerBoard, env: Record<string, string> = {}): RunningDispatcher {
  const d = startDispatcher(board, env);
  running.push(d);
  return d;
}

/** Exits 0 after `ms`: a worker that succeeds. */
const succeedAfter = (ms: number) => [process.execPath, '-e', `setTimeout(() => process.exit(0), ${ms})`];

/** A worker that exits 0 once the file `go` exists: the test says when it ends, whatever the machine's load. */
const succeedOn = (go: string) => [process.execPath, '-e', `const fs = require('fs'); setInterval(() => fs.existsSync(${JSON.stringify(go)}) && process.exit(0), 50)`];

/** Counted failures: the events that raised a task's failure counter. */
const counted = (board: WorkerBoard, taskId: string) => eventsOf(board, taskId).filter((e) => typeof (e.payload as { failures?: unknown }).failures === 'number');

/**
 * A task whose worker is running under a dispatcher with short timeouts (busy 300 ms, staleness 2 s,
 * crash grace 1 s), and exits 0 once the file `go` is written.
 */
async function runningUntilGo(title: string) {
  const go = join(tempDir('kanban-go-'), 'go');
  const board = workerBoard({ ok: { command: succeedOn(go), on_clean_exit: 'complete' } }, {
    KANBAN_BUSY_TIMEOUT_MS: '300',
    KANBAN_HEARTBEAT_MAX_STALE_SECONDS: '2',
    KANBAN_CRASH_GRACE_SECONDS: '1',
  });
  const { task } = createTask(board.store, { title, assignee: 'ok' });
  const d = dispatcher(board);
  await waitFor('the worker', () => getTask(board.store, task.id).worker_pid);
  return { go, board, task, d };
}

describe('the board or the machine failing', () => {
  it('`kanban dispatch` exits 4 when the board is locked for the tick, saying so', async () => {
    const board = workerBoard({ ok: { command: succeedAfter(0), on_clean_exit: 'complete' } }, { KANBAN_BUSY_TIMEOUT_MS: '300' });
    createTask(board.store, { title: 'waits', assignee: 'ok' });
    // Held until the dispatch is over (killed below), however long a loaded machine takes to start it.
    const holder = await startUntil('hold-lock.mjs', [board.db, '120000'], 'locked');
    try {
      const result = kanban(['--db', board.db, 'dispatch'], board.env);
      expect(result.code, result.stdout + result.stderr).toBe(4);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^kanban: board locked: board .* is locked by another process/);
    } finally {
      holder.kill();
      await exited(holder);
    }
  });

  it('a lock held long past the busy timeout does not turn a success into a crash: the exit is recorded late, one run', async () => {
    const { go, board, task, d } = await runningUntilGo('locked out at the end');
    // The worker exits inside an 8 s lock: longer than the lease (3 s), the heartbeat staleness (2 s)
    // and every busy timeout.
    const holder = await startUntil('hold-lock.mjs', [board.db, '8000'], 'locked');
    writeFileSync(go, '');
    expect(await exited(holder)).toBe(0);
    await waitFor('the task done', () => getTask(board.store, task.id).status === 'done', 30_000);
    expect(runsForTask(board.store, task.id).map((r) => r.outcome)).toEqual(['completed']);
    expect(counted(board, task.id)).toEqual([]);
    expect(d.stderr()).toMatch(/board locked: .*backing off: next tick in [\d.]+s/);
  }, 60_000);

  it('a writer SIGSTOPped inside its commit for 6 s: the run that ended meanwhile is recorded completed once it goes on, one run, nothing counted', async () => {
    const { go, board, task, d } = await runningUntilGo('ends while a writer is stopped');
    // Another process creating tasks (unassigned: nobody runs them) with 2 ms between them, stopped
    // where it holds the board's write lock: checked, else tried again. The pause is what lets the
    // supervisor in once it goes on; SQLite's lock is not fair, and a writer that never pauses
    // starves every other one (a loaded machine showed it: the exit not recorded in 30 s).
    const writer = spawn(process.execPath, [fixture('write-burst.mjs'), board.db, '10000000', '2'], { stdio: 'ignore' });
    try {
      const probe = writeLockProbe(board.db);
      const holdsTheLock = () => probe.held(); // the stopped writer is inside its transaction
      const created = () => rowCount(board.store, 'tasks');
      await waitFor('the writer to be writing', () => created() > 5, 30_000);
      for (let attempt = 0; ; attempt++) {
        process.kill(writer.pid!, 'SIGSTOP');
        // The signal is delivered, not yet acted on, when kill returns: probe once the writer has stopped.
        await waitFor('the writer to stop', () => readFileSync(`/proc/${writer.pid}/stat`, 'utf8').split(') ')[1]![0] === 'T', 5_000, 1);
        if (holdsTheLock()) break;
        expect(attempt).toBeLessThan(1000);
        process.kill(writer.pid!, 'SIGCONT');
        await new Promise((resolve) => setTimeout(resolve, 5 + (attempt % 7) * 3));
      }
      writeFileSync(go, ''); // the worker exits now
      await new Promise((resolve) => setTimeout(resolve, 6000));
      expect(holdsTheLock()).toBe(true);
      probe.close();
      process.kill(writer.pid!, 'SIGCONT');
      await waitFor('the task done', () => getTask(board.store, task.id).status === 'done', 30_000);
    } finally {
      writer.kill('SIGKILL');
      await exited(writer);
    }
    expect(runsForTask(board.store, task.id).map((r) => r.outcome)).toEqual(['completed']);
    expect(counted(board, task.id)).toEqual([]);
    expect(d.stderr()).toMatch(/board locked: /);
    expect(integrityOk(board.store)).toBe(true);
  }, 90_000);

  it('a read-only board folder for a few seconds charges no task: every task is done after, none counted', async (ctx) => {
    const board = workerBoard({ ok: { command: succeedAfter(1000), on_clean_exit: 'complete' } }, { KANBAN_CRASH_GRACE_SECONDS: '1', KANBAN_MAX_IN_PROGRESS: '2' });
    const dir = dirname(board.db);
    const ids = Array.from({ length: 8 }, (_, i) => createTask(board.store, { title: `t${i}`, assignee: 'ok' }).task.id);
    const d = dispatcher(board);
    await waitFor('the dispatcher to start', () => d.stderr().includes('dispatching'));
    // The board stays open (and writable); logs, a supervisor's connection and prompt files fail with EROFS.
    if (!readOnly(dir)) return ctx.skip(); // not root, or no mount here
    await waitFor('a start to fail for it', () => /read-only file system/.test(d.stderr()), 20_000);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    writable(dir);
    await waitFor('every task done', () => ids.every((id) => getTask(board.store, id).status === 'done'), 120_000, 200);
    for (const id of ids) expect(counted(board, id)).toEqual([]);
    expect(d.stderr()).toMatch(/kanban: read-only file system: cannot start the supervisor: EROFS.*backing off: next tick in [\d.]+s/);
    expect(d.stderr()).toMatch(/kanban: the board is usable again/);
  }, 180_000);

  it('a worker that ends while the prompts folder is read-only: its run is recorded completed, one run, the prompt file left', async (ctx) => {
    const go = join(tempDir('kanban-go-'), 'go');
    const board = workerBoard({ ok: { command: succeedOn(go), on_clean_exit: 'complete' } }, { KANBAN_CRASH_GRACE_SECONDS: '1' });
    const { task } = createTask(board.store, { title: 'ends on a read-only disk', assignee: 'ok' });
    dispatcher(board);
    await waitFor('the worker', () => getTask(board.store, task.id).worker_pid);
    const prompts = join(dirname(board.db), 'prompts');
    expect(readdirSync(prompts)).toHaveLength(1);
    if (!readOnly(prompts)) return ctx.skip(); // not root, or no mount here
    writeFileSync(go, '');
    await waitFor('the task done', () => getTask(board.store, task.id).status === 'done', 30_000);
    expect(runsForTask(board.store, task.id).map((r) => r.outcome)).toEqual(['completed']);
    expect(counted(board, task.id)).toEqual([]);
    expect(taskLog(board, task.id)).toMatch(/could not remove the prompt file: .*read-only file system/i);
    expect(readdirSync(prompts)).toHaveLength(1);
  }, 60_000);

  it('`kanban diagnostics` says the board is unwritable when its disk is full, and stops saying it once space returns', async (ctx) => {
    const dir = tempDir('kanban-full-');
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir]).status !== 0) return ctx.skip(); // not root
    mounts.push(dir);
    const db = join(dir, 'board.db');
    expect(kanban(['--db', db, 'create', 'on a small disk']).code).toBe(0);
    const holder = openStore(db); // as a running dispatcher would: the board stays open (its WAL index with it)
    const ballast = join(dir, 'ballast');
    spawnSync('dd', ['if=/dev/zero', `of=${ballast}`, 'bs=64k'], { stdio: 'ignore' }); // until the disk is full
    const full = kanban(['--db', db, 'diagnostics']);
    expect(full.code, full.stderr).toBe(0);
    expect(full.stdout).toMatch(/critical board\s+board_unwritable .*\n\s+board unwritable: the disk holding .* has \d+ KiB free/);
    rmSync(ballast);
    expect(kanban(['--db', db, 'diagnostics']).stdout).not.toMatch(/board_unwritable/);
    holder.close();
  });

  it('a board that cannot be opened because its disk is full says so', async (ctx) => {
    const dir = tempDir('kanban-full-');
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir]).status !== 0) return ctx.skip(); // not root
    mounts.push(dir);
    const db = join(dir, 'board.db');
    expect(kanban(['--db', db, 'create', 'on a small disk']).code).toBe(0);
    spawnSync('dd', ['if=/dev/zero', `of=${join(dir, 'ballast')}`, 'bs=64k'], { stdio: 'ignore' });
    const result = kanban(['--db', db, 'list']);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/^kanban: cannot use board .*: .* \(board unwritable: the disk holding .* has \d+ KiB free\)\n$/);
  });
});
