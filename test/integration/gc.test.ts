import { existsSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/db.js';
import { openBoard } from '../../src/port/open.js';
import type { BoardStore } from '../../src/port/board.js';
import { GcPass } from '../../src/gc.js';
import { archiveTask, completeTask } from '../../src/store/lifecycle.js';
import { addComment } from '../../src/store/comments.js';
import { spawn } from 'node:child_process';
import { expectFailure, kanban, KANBAN_BIN, kanbanJson } from '../helpers/cli.js';
import { cleanEnv, exited } from '../helpers/processes.js';
import { manualClock, tempDir, type ManualClock } from '../helpers/board.js';
import { run, taskAt } from '../helpers/history.js';
import { waitFor } from '../helpers/workers.js';

const DAY = 86_400_000;

interface Made {
  db: string;
  dir: string;
  /** Archived 40 days ago, with runs, comments, a log file and a scratch workspace. */
  old: string[];
  /** Archived 10 days ago. */
  recent: string;
  /** Done 20 days ago, not archived. */
  done: string;
  /** Archived 40 days ago, its recorded workspace outside the workspaces root. */
  outside: string;
  outsideDir: string;
}

/** A task with a lot of history at `at` (runs, comments), its log and scratch workspace on disk, archived then. */
function archivedAt(store: Store, clock: ManualClock, dir: string, at: number, title: string): string {
  const id = taskAt(store, clock, at, title);
  for (let i = 0; i < 5; i++) run(store, clock, id, null, at + i * 1000, at + i * 1000 + 500, 'crashed');
  for (let i = 0; i < 20; i++) addComment(store, id, `note ${i} ${'x'.repeat(2000)}`);
  clock.set(at + 10_000);
  completeTask(store, id, 'done');
  archiveTask(store, id);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  writeFileSync(join(dir, 'logs', `${id}.log`), 'output\n'.repeat(1000));
  const workspace = join(dir, 'workspaces', id);
  mkdirSync(workspace, { recursive: true });
  writeFileSync(join(workspace, 'file.txt'), 'work');
  store.db.prepare('UPDATE tasks SET workspace_path = ? WHERE id = ?').run(workspace, id);
  return id;
}

function boardWithHistory(): Made {
  const dir = tempDir();
  const db = join(dir, 'board.db');
  const now = Date.now();
  const clock = manualClock(now - 60 * DAY);
  const store = openStore(db, { clock });
  try {
    const old = [archivedAt(store, clock, dir, now - 41 * DAY, 'old one'), archivedAt(store, clock, dir, now - 40 * DAY, 'old two')];
    const outside = archivedAt(store, clock, dir, now - 40 * DAY + 5_000, 'kept elsewhere');
    const outsideDir = join(tempDir(), 'not-managed');
    mkdirSync(outsideDir);
    writeFileSync(join(outsideDir, 'precious.txt'), 'keep me');
    // A scratch path recorded outside the root (an old board, a hand edit): never deleted.
    store.db.prepare('UPDATE tasks SET workspace_path = ? WHERE id = ?').run(outsideDir, outside);
    const recent = archivedAt(store, clock, dir, now - 10 * DAY, 'archived lately');
    const done = taskAt(store, clock, now - 20 * DAY, 'done a while ago');
    completeTask(store, done, 'ok');
    return { db, dir, old, recent, done, outside, outsideDir };
  } finally {
    store.close();
  }
}

/** Rows of each kind the task still has, read straight from the file. */
function historyOf(db: string, id: string): { events: number; comments: number; runs: number } {
  const store = openStore(db);
  try {
    const count = (table: string) => store.db.prepare(`SELECT count(*) FROM ${table} WHERE task_id = ?`).pluck().get(id) as number;
    return { events: count('task_events'), comments: count('task_comments'), runs: count('task_runs') };
  } finally {
    store.close();
  }
}

describe('kanban gc', () => {
  it('--dry-run says what would go and changes nothing, on the board or on disk', () => {
    const made = boardWithHistory();
    const before = historyOf(made.db, made.old[0]!);
    const tally = kanbanJson(made.db, ['gc', '--dry-run']);
    expect(tally).toMatchObject({ dryRun: true, tasks: 3, comments: 60, runs: 15, logFiles: 3, workspaces: 3, archivedDone: 0 });
    expect(historyOf(made.db, made.old[0]!)).toEqual(before);
    expect(existsSync(join(made.dir, 'logs', `${made.old[0]}.log`))).toBe(true);
    expect(existsSync(join(made.dir, 'workspaces', made.old[0]!))).toBe(true);
    const text = kanban(['--db', made.db, 'gc', '--dry-run']);
    expect(text.stdout).toMatch(/^would remove the history of 3 tasks archived before \S+: \d+ events, 60 comments, 15 runs, 3 log files, 3 workspaces\n$/);
  });

  it('removes the history of tasks archived before the limit, their logs and scratch workspaces; never a workspace outside the root; the file shrinks; a second pass finds nothing', () => {
    const made = boardWithHistory();
    const sizeBefore = statSync(made.db).size;
    const result = kanban(['--db', made.db, 'gc']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^removed the history of 3 tasks archived before \S+: \d+ events, 60 comments, 15 runs, 3 log files, 3 workspaces; gave [\d.]+ (KiB|MiB) back to the file system\n  left: t_[0-9a-f]{8}: its workspace .* was left: .* is not inside the workspaces root .*\n$/);
    for (const id of [...made.old, made.outside]) {
      expect(historyOf(made.db, id)).toEqual({ events: 0, comments: 0, runs: 0 });
      expect(existsSync(join(made.dir, 'logs', `${id}.log`))).toBe(false);
    }
    for (const id of made.old) expect(existsSync(join(made.dir, 'workspaces', id))).toBe(false);
    expect(existsSync(join(made.outsideDir, 'precious.txt'))).toBe(true);
    expect(historyOf(made.db, made.recent)).toMatchObject({ comments: 20, runs: 5 });
    expect(existsSync(join(made.dir, 'workspaces', made.recent))).toBe(true);
    expect(kanbanJson(made.db, ['show', made.old[0]!]).task).toMatchObject({ status: 'archived', title: 'old one' });
    expect(statSync(made.db).size).toBeLessThan(sizeBefore);
    expect(kanbanJson(made.db, ['gc'])).toMatchObject({ tasks: 0, events: 0 });
  });

  it('--older-than and --archive-done-after: done tasks completed before that are archived first (their history goes in its turn)', () => {
    const made = boardWithHistory();
    const tally = kanbanJson(made.db, ['gc', '--older-than', '5d', '--archive-done-after', '14d']);
    expect(tally).toMatchObject({ archivedDone: 1, tasks: 4 });
    expect(kanbanJson(made.db, ['show', made.done]).task).toMatchObject({ status: 'archived' });
    expect(historyOf(made.db, made.recent)).toEqual({ events: 0, comments: 0, runs: 0 });
    // Archived just now: its own history stays until it is old enough.
    expect(historyOf(made.db, made.done).events).toBeGreaterThan(0);
  });

  it('a workspace that is a symlink out of the root is not followed', () => {
    const made = boardWithHistory();
    const target = join(tempDir(), 'target');
    mkdirSync(target);
    writeFileSync(join(target, 'precious.txt'), 'keep me');
    const link = join(made.dir, 'workspaces', 'linked');
    symlinkSync(target, link);
    const store = openStore(made.db);
    store.db.prepare('UPDATE tasks SET workspace_path = ? WHERE id = ?').run(link, made.old[1]);
    store.close();
    const tally = kanbanJson(made.db, ['gc']);
    expect(tally.problems).toEqual(expect.arrayContaining([expect.stringContaining(`${made.old[1]}: its workspace ${link} was left`)]));
    expect(existsSync(join(target, 'precious.txt'))).toBe(true);
  });

  it('a pass killed after its commit, before its files: the next pass removes what it left on disk, and only that', async () => {
    const made = boardWithHistory();
    // What a killed pass leaves: the history gone, the files not (the port's collect, files untouched).
    const board = await openBoard(made.db);
    try {
      const batch = await board.retention.collect({ before: Date.now() - 30 * DAY, limit: 100 });
      expect(batch.tasks.map((t) => t.id).sort()).toEqual([...made.old, made.outside].sort());
    } finally {
      await board.close();
    }
    const log = (id: string) => join(made.dir, 'logs', `${id}.log`);
    for (const id of made.old) expect(existsSync(log(id))).toBe(true);
    const dry = kanbanJson(made.db, ['gc', '--dry-run']);
    expect(dry).toMatchObject({ tasks: 0, logFiles: 3, workspaces: 3 });
    expect(existsSync(log(made.old[0]!))).toBe(true);
    const tally = kanbanJson(made.db, ['gc']);
    expect(tally).toMatchObject({ tasks: 0, events: 0, logFiles: 3, workspaces: 3, problems: [] });
    for (const id of [...made.old, made.outside]) {
      expect(existsSync(log(id))).toBe(false);
      expect(existsSync(join(made.dir, 'workspaces', id))).toBe(false); // the one kanban made, inside the root
    }
    expect(existsSync(join(made.outsideDir, 'precious.txt'))).toBe(true);
    expect(existsSync(log(made.recent))).toBe(true);
    expect(existsSync(join(made.dir, 'workspaces', made.recent))).toBe(true);
    expect(kanbanJson(made.db, ['gc'])).toMatchObject({ logFiles: 0, workspaces: 0 });
  });

  it('a task taken out of the archive while the sweep looks is left alone: asked again just before its files go', async () => {
    const made = boardWithHistory();
    const [taken, swept] = made.old as [string, string];
    const board = await openBoard(made.db);
    try {
      await board.retention.collect({ before: Date.now() - 30 * DAY, limit: 100 }); // a pass killed before its files
      // A person reopens one between the sweep's question and its removals (it may be claimed and run here next).
      const racing: BoardStore = Object.assign(Object.create(board) as BoardStore, {
        retention: {
          ...board.retention,
          collectedTasks: async (ids: readonly string[]) => {
            const answer = await board.retention.collectedTasks(ids);
            if (ids.length > 1) await board.transitions.reopen(taken);
            return answer;
          },
        },
      });
      const pass = new GcPass(racing, { olderThanMs: 30 * DAY, archiveDoneAfterMs: null }, Date.now());
      await pass.run();
      expect(existsSync(join(made.dir, 'logs', `${taken}.log`))).toBe(true);
      expect(existsSync(join(made.dir, 'workspaces', taken))).toBe(true);
      expect(existsSync(join(made.dir, 'logs', `${swept}.log`))).toBe(false);
      expect(existsSync(join(made.dir, 'workspaces', swept))).toBe(false);
    } finally {
      await board.close();
    }
  });

  it('bad input: exit 2, one kanban: line, the board as it was', () => {
    const made = boardWithHistory();
    expectFailure(made.db, ['gc', '--older-than', 'soon'], 2, /invalid --older-than 'soon'/);
    expectFailure(made.db, ['gc', '--archive-done-after', '-1d'], 2, /invalid --archive-done-after '-1d'/);
    expectFailure(made.db, ['gc', 'extra'], 2, /too many arguments|unknown|argument/i);
  });

  it('a headless dispatcher with gc: in its config removes the history on its own and says so', async () => {
    const made = boardWithHistory();
    const config = join(made.dir, 'config.yaml');
    writeFileSync(config, 'tick_seconds: 0.2\ngc:\n  older_than: 30d\n  every: 1h\n');
    const dispatcher = spawn(process.execPath, [KANBAN_BIN, '--db', made.db, '--config', config, 'tui', '--no-ui'], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    dispatcher.stdout.on('data', (chunk) => (stdout += chunk));
    dispatcher.stderr.on('data', (chunk) => (stderr += chunk));
    try {
      await waitFor('the dispatcher to say it collected', () => /collected/.test(stdout) || (dispatcher.exitCode !== null && `exited: ${stderr}`), 30_000);
      expect(stdout).toMatch(/collected \(removed the history of 3 tasks archived before/);
      for (const id of made.old) expect(historyOf(made.db, id)).toEqual({ events: 0, comments: 0, runs: 0 });
      expect(historyOf(made.db, made.recent).runs).toBe(5);
    } finally {
      dispatcher.kill('SIGTERM');
      await exited(dispatcher);
    }
    expect(dispatcher.exitCode).toBe(0);
  });
});
