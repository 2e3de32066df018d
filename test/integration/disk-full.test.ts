// A full disk, for real: small tmpfs file systems (mounting needs root), filled with a ballast file
// until the kernel answers ENOSPC, then given room again by deleting it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmdirSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LINE_CUT_MARKER } from '../../src/cli/commands/log.js';
import { checkpointWal, openStore, type Store } from '../../src/store/db.js';
import { runsForTask } from '../../src/store/runs.js';
import { createTask, getTask } from '../../src/store/tasks.js';
import { LOG_LINE_MAX_BYTES, RunLog, taskLogPath } from '../../src/workers/runlog.js';
import { KANBAN_BIN } from '../helpers/cli.js';
import { exited, isAlive } from '../helpers/processes.js';
import { claimAndStart, runEnded, waitFor, worker, workerBoard } from '../helpers/workers.js';
import { tempDir } from '../helpers/board.js';
import { openReader, quickCheckOk, rowCount } from '../helpers/sqlite-hooks.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Why these tests cannot run here, or null: they mount tmpfs, which needs root. */
function cannotMount(): string | null {
  if (process.platform !== 'linux') return 'tmpfs mounts need Linux';
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const probe = mkdtempSync(join(tmpdir(), 'kanban-tmpfs-probe-'));
  try {
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { encoding: 'utf8' });
    if (mounted.status !== 0) return `mount -t tmpfs failed: ${(mounted.stderr || mounted.error?.message || '').trim()}`;
    spawnSync('umount', [probe]);
    return null;
  } finally {
    rmdirSync(probe);
  }
}
const skipReason = cannotMount();

const mounts: string[] = [];
const children: ChildProcess[] = [];

/** A fresh tmpfs of `size` (`2m`), unmounted when the file is done. */
function smallDisk(size: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kanban-tmpfs-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (mounted.status !== 0) throw new Error(`mount failed: ${mounted.stderr}`);
  mounts.push(dir);
  return dir;
}

/** Fills the file system `dir` is on with a ballast file until writes fail with ENOSPC; returns its path. */
function fill(dir: string): string {
  const ballast = join(dir, 'ballast');
  const fd = openSync(ballast, 'a');
  try {
    for (const size of [256 * KiB, 4 * KiB, 1]) {
      const chunk = Buffer.alloc(size, 0x62);
      for (;;) {
        try {
          if (writeSync(fd, chunk) < chunk.length) break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  expect(() => writeFileSync(join(dir, 'probe'), Buffer.alloc(8 * KiB))).toThrow(/ENOSPC/);
  rmSync(join(dir, 'probe'), { force: true });
  return ballast;
}

/**
 * Appends newlines to a file on a full disk until the last page it has is full too: a file can take
 * writes into its last page when nothing else can. Its writer must append (O_APPEND) to come after.
 */
function padToFull(path: string): void {
  const fd = openSync(path, 'a');
  try {
    for (const size of [4 * KiB, 1]) {
      for (;;) {
        try {
          if (writeSync(fd, Buffer.alloc(size, 0x0a)) < size) break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited(child);
  }
});

afterAll(() => {
  for (const dir of mounts.splice(0)) {
    if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir]); // lazily, if something still holds it
    rmdirSync(dir);
  }
});

/** Every line of a log is a whole `<time> [r<run> <stream>] …` line. */
function expectWholeLines(text: string, run: number): void {
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.split('\n').slice(0, -1)) expect(line).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z \\[r${run} \\w+\\] `));
}

describe.skipIf(skipReason !== null)(`on a full disk${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  it('a RunLog on a full disk never throws, reports ENOSPC, and once there is room writes again, saying how much was lost', () => {
    const disk = smallDisk('2m');
    const db = join(disk, 'board.db'); // the log lives beside the board: <disk>/logs
    const log = RunLog.open(dirname(db), 't_1a2b3c4d', 1, { retryMs: 0 });
    log.line('kanban', 'starting run 1');
    const ballast = fill(disk);
    expect(() => {
      for (let i = 0; i < 300; i++) log.chunk(i % 2 ? 'out' : 'err', `line ${i} ${'x'.repeat(100)}\n`);
      log.line('kanban', 'worker exited: code 0');
    }).not.toThrow();
    expect(log.fault).toMatchObject({ code: 'ENOSPC' });
    expect(log.isFailing).toBe(true);
    const lost = log.lostBytes;
    expect(lost).toBeGreaterThan(0);

    rmSync(ballast);
    log.chunk('out', 'after the disk had room again\n');
    expect(log.isFailing).toBe(false);
    log.close();
    const text = readFileSync(taskLogPath(dirname(db), 't_1a2b3c4d'), 'utf8');
    expectWholeLines(text, 1);
    expect(text).toMatch(new RegExp(`\\[r1 kanban\\] ${lost} bytes of output were lost: ENOSPC\\n[^\\n]+\\[r1 out\\] after the disk had room again\\n$`));
    expect(text).toContain('[r1 kanban] starting run 1\n');
  }, 60_000);

  it('a supervisor whose task log is on a full disk runs its worker to the end: the run is recorded, not a crash', async () => {
    const board = workerBoard({ chatty: { command: worker('chatty', '10', '1500') } });
    const disk = smallDisk('1m');
    mkdirSync(join(disk, 'logs'));
    symlinkSync(join(disk, 'logs'), join(dirname(board.db), 'logs')); // the board on a roomy disk, its logs on the full one
    const { task } = createTask(board.store, { title: 'noisy', assignee: 'chatty' });
    writeFileSync(taskLogPath(dirname(board.db), task.id), ''); // there, empty, before the disk fills
    const ballast = fill(disk);
    const identity = claimAndStart(board, task.id);
    const supervisor = await waitFor('the supervisor', () => runsForTask(board.store, task.id)[0]?.supervisor_pid, 60_000);
    await waitFor('the run to end (or its supervisor to die)', () => runsForTask(board.store, task.id)[0]?.status === 'ended' || !isAlive(supervisor), 90_000, 100);
    const run = await runEnded(board, identity, 30_000);
    expect(run).toMatchObject({ outcome: 'completed', exit_code: 0 });
    expect(getTask(board.store, task.id)).toMatchObject({ status: 'done', consecutive_failures: 0 });
    expect(runsForTask(board.store, task.id)).toHaveLength(1);
    rmSync(ballast);
  }, 180_000);

  it('kanban log prints a 200 MB line with no newline cut, in bounded memory, never loading the file', () => {
    const dir = tempDir('kanban-biglog-');
    const db = join(dir, 'board.db');
    const store = openStore(db);
    const { task } = createTask(store, { title: 'noisy' });
    store.close();
    const path = taskLogPath(dirname(db), task.id);
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(path, 'w');
    writeSync(fd, 'a line before\n');
    const chunk = Buffer.alloc(4 * MiB, 0x78);
    for (let i = 0; i < 50; i++) writeSync(fd, chunk);
    closeSync(fd);
    expect(statSync(path).size).toBeGreaterThan(200 * MiB);

    const time = existsSync('/usr/bin/time');
    const argv = [process.execPath, '--max-old-space-size=128', KANBAN_BIN, '--db', db, 'log', task.id];
    const result = time
      ? spawnSync('/usr/bin/time', ['-f', 'peak-rss-kb %M', ...argv], { encoding: 'utf8', maxBuffer: 16 * MiB })
      : spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', maxBuffer: 16 * MiB });
    rmSync(path);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.split('\n')).toEqual(['a line before', `${'x'.repeat(LOG_LINE_MAX_BYTES)}${LINE_CUT_MARKER}`, '']);
    if (time) {
      const peakKb = Number(/peak-rss-kb (\d+)/.exec(result.stderr)?.[1]);
      expect(peakKb).toBeGreaterThan(0);
      expect(peakKb * KiB).toBeLessThan(128 * MiB); // the line alone is 200 MB; Node itself takes ~55
    }
  }, 180_000);

  it('the headless dispatcher with its stdout and stderr on a full disk keeps dispatching, and says what it dropped once there is room', async () => {
    const board = workerBoard({ quick: { command: worker('exit', '0'), on_clean_exit: 'complete' } });
    const disk = smallDisk('1m');
    const out = openSync(join(disk, 'stdout'), 'a'); // appending: so that padToFull can fill its last page
    const err = openSync(join(disk, 'stderr'), 'a');
    const dispatcher = spawn(process.execPath, [KANBAN_BIN, '--db', board.db, 'tui', '--no-ui', '--json'], {
      cwd: dirname(board.db),
      env: { ...board.env, KANBAN_TICK_SECONDS: '0.2' },
      stdio: ['ignore', out, err],
    });
    children.push(dispatcher);
    closeSync(out);
    closeSync(err);
    const done = (id: string) => {
      if (dispatcher.exitCode !== null || dispatcher.signalCode !== null) throw new Error(`the dispatcher exited (${dispatcher.exitCode ?? dispatcher.signalCode}): ${readFileSync(join(disk, 'stderr'), 'utf8').slice(-2000)}`);
      return getTask(board.store, id).status === 'done';
    };

    const first = createTask(board.store, { title: 'before the disk filled', assignee: 'quick' }).task.id;
    await waitFor('the first task to be done', () => done(first), 60_000);
    await waitFor('its ticks on stdout', () => readFileSync(join(disk, 'stdout'), 'utf8').includes(first), 30_000);

    const ballast = fill(disk);
    padToFull(join(disk, 'stdout'));
    padToFull(join(disk, 'stderr'));
    const later = Array.from({ length: 15 }, (_, i) => createTask(board.store, { title: `after the disk filled ${i}`, assignee: 'quick' }).task.id);
    await waitFor('every task created after the disk filled to be done', () => later.every(done), 120_000, 200);
    expect(dispatcher.exitCode).toBeNull();
    expect(dispatcher.signalCode).toBeNull();
    const stdout = readFileSync(join(disk, 'stdout'), 'utf8');
    expect(later.filter((id) => stdout.includes(id))).toEqual([]); // their ticks were dropped indeed

    rmSync(ballast);
    const last = createTask(board.store, { title: 'once there was room again', assignee: 'quick' }).task.id;
    await waitFor('the last task to be done', () => done(last), 60_000);
    await waitFor('the dispatcher to say what it dropped', () => /kanban: \d+ writes? to stdout \(\d+ bytes\) could not be made \(ENOSPC\) and were dropped/.test(readFileSync(join(disk, 'stderr'), 'utf8')), 30_000);
    await waitFor('its ticks on stdout again', () => readFileSync(join(disk, 'stdout'), 'utf8').includes(last), 30_000);
    // Each tick printed is a whole JSON line, also the ones after the drops.
    for (const line of readFileSync(join(disk, 'stdout'), 'utf8').split('\n').filter(Boolean)) {
      if (line.includes(last)) expect(() => JSON.parse(line)).not.toThrow();
    }
    expect(readFileSync(join(disk, 'stderr'), 'utf8')).not.toMatch(/\n\s+at /); // no stack trace
    dispatcher.kill('SIGINT');
    expect(await exited(dispatcher)).toBe(0);
  }, 420_000);

  it('checkpointWal truncates a WAL grown on a small disk once there is room, and never throws while it is full', () => {
    const disk = smallDisk('3m');
    const db = join(disk, 'board.db');
    const store: Store = openStore(db);
    try {
      // A reader that stays keeps every commit in the WAL: it grows.
      const reader = openReader(db);
      const body = 'b'.repeat(1500);
      let created = 0;
      for (let i = 0; statSync(`${db}-wal`).size < 512 * KiB; i++, created++) createTask(store, { title: `task ${i}`, body });
      reader.close();

      const ballast = fill(disk);
      let full: unknown = null;
      for (let i = 0; i < 500 && full === null; i++) {
        try {
          createTask(store, { title: `on a full disk ${i}`, body });
          created++;
        } catch (err) {
          full = err;
        }
      }
      expect(String((full as { code?: string })?.code ?? full)).toMatch(/SQLITE_FULL|ENOSPC|disk/i);
      const grown = statSync(`${db}-wal`).size;
      expect(grown).toBeGreaterThan(256 * KiB);
      // Moving the WAL into the board grows the board file: no room for that, and no exception either.
      expect(checkpointWal(store, { force: true })).toEqual({ ok: false, ran: true, walBytes: grown, error: 'SQLITE_FULL' });
      expect(statSync(`${db}-wal`).size).toBe(grown);

      rmSync(ballast);
      expect(checkpointWal(store, { minWalBytes: 64 * KiB })).toEqual({ ok: true, ran: true, walBytes: grown });
      expect(statSync(`${db}-wal`).size).toBe(0);
      expect(quickCheckOk(store)).toBe(true);
      expect(rowCount(store, 'tasks')).toBe(created);

      // Cheap when there is little to do: one stat, no checkpoint.
      createTask(store, { title: 'one more' });
      const small = checkpointWal(store);
      expect(small).toMatchObject({ ok: true, ran: false });
      expect(small.walBytes).toBeGreaterThan(0);
      expect(statSync(`${db}-wal`).size).toBe(small.walBytes);
    } finally {
      store.close();
    }
  }, 60_000);
});

describe('the headless dispatcher whose stdout reader goes away', () => {
  it('keeps dispatching after EPIPE (one-shot commands exit quietly; it must not)', async () => {
    const board = workerBoard({ quick: { command: worker('exit', '0'), on_clean_exit: 'complete' } });
    const dispatcher = spawn(process.execPath, [KANBAN_BIN, '--db', board.db, 'tui', '--no-ui', '--json'], {
      cwd: dirname(board.db),
      env: { ...board.env, KANBAN_TICK_SECONDS: '0.2' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(dispatcher);
    let stderr = '';
    dispatcher.stderr!.on('data', (chunk) => (stderr += chunk));
    const done = (id: string) => {
      if (dispatcher.exitCode !== null || dispatcher.signalCode !== null) throw new Error(`the dispatcher exited (${dispatcher.exitCode ?? dispatcher.signalCode}): ${stderr.slice(-2000)}`);
      return getTask(board.store, id).status === 'done';
    };
    let stdout = '';
    dispatcher.stdout!.on('data', (chunk) => (stdout += chunk));
    const first = createTask(board.store, { title: 'while someone reads', assignee: 'quick' }).task.id;
    await waitFor('the first task to be done', () => done(first), 60_000);
    await waitFor('its ticks on stdout', () => stdout.includes(first), 30_000);
    dispatcher.stdout!.destroy(); // the reader goes: the next write meets EPIPE

    const later = Array.from({ length: 5 }, (_, i) => createTask(board.store, { title: `nobody reads ${i}`, assignee: 'quick' }).task.id);
    await waitFor('every task created after the reader left to be done', () => later.every(done), 120_000, 200);
    expect(dispatcher.exitCode).toBeNull();
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
    dispatcher.kill('SIGINT');
    expect(await exited(dispatcher)).toBe(0);
  }, 300_000);
});
