import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { closeSync, openSync, readdirSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BoardLocked } from '../../src/errors.js';
import { SqliteBoard } from '../../src/store/sqlite-board.js';
import { manualClock, tempDir } from '../helpers/board.js';
import { fileHash, KANBAN_BIN } from '../helpers/cli.js';
import { openStore } from '../../src/store/db.js';
import { createTask } from '../../src/store/tasks.js';
import { cleanEnv } from '../helpers/processes.js';
import { openSqlite } from './factory.js';

/** What only the SQLite adapter does: waiting for SQLite's lock without blocking, opening a new file at once. */
describe('the SQLite adapter alone', () => {
  it('waits for a board another connection holds locked without freezing the event loop, then writes', async () => {
    const h = await openSqlite();
    const holder = new Database(h.path);
    try {
      holder.exec('BEGIN IMMEDIATE');
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 10);
      const created = h.board.transitions.create({ title: 'waits its turn' });
      await new Promise((resolve) => setTimeout(resolve, 400));
      clearInterval(ticker);
      // A busy handler that slept inside the call would have let no timer run for the 400 ms.
      expect(ticks).toBeGreaterThan(5);
      holder.exec('COMMIT');
      expect((await created).task.title).toBe('waits its turn');
    } finally {
      holder.close();
      await h.close();
    }
  });

  it('past the busy timeout the board is locked (BoardLocked), and nothing was written', async () => {
    const h = await openSqlite(manualClock(), { busyTimeoutMs: 300 });
    const holder = new Database(h.path);
    try {
      const before = await h.snapshot();
      holder.exec('BEGIN IMMEDIATE');
      await expect(h.board.transitions.create({ title: 'never written' })).rejects.toBeInstanceOf(BoardLocked);
      holder.exec('ROLLBACK');
      expect(await h.snapshot()).toEqual(before);
      expect((await h.board.transitions.create({ title: 'written once free' })).task.title).toBe('written once free');
    } finally {
      holder.close();
      await h.close();
    }
  });

  it('processes that open a board that does not exist yet, all at once, each get it and write', async () => {
    // Opening waits for the others (creating the file, the journal mode, migrations) as always; only
    // the port's own calls wait between attempts.
    const path = join(tempDir('kanban-conformance-new-'), 'board.db');
    const created = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        new Promise<{ code: number | null; stderr: string }>((resolve) => {
          const child = execFile(process.execPath, [KANBAN_BIN, '--db', path, 'create', `at once ${i}`], { env: cleanEnv() }, (err, _out, stderr) => resolve({ code: err ? (err.code as number) : 0, stderr }));
          child.stdin?.end();
        }),
      ),
    );
    expect(created).toEqual(created.map(() => ({ code: 0, stderr: '' })));
    const board = SqliteBoard.open(path);
    expect(await board.tasks.count()).toBe(10);
    await board.close();
  });

  it('calls on one connection queue: concurrent writes each commit whole', async () => {
    const h = await openSqlite();
    try {
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => h.board.transitions.create({ title: `burst ${i}` })));
      expect(new Set(results.map((r) => r.task.id)).size).toBe(50);
      expect(await h.board.tasks.count()).toBe(50);
    } finally {
      await h.close();
    }
  });
});

/** A board file of 300 tasks, several pages long. */
function boardOf300(): string {
  const path = join(tempDir('kanban-adapter-corrupt-'), 'board.db');
  const setup = openStore(path);
  for (let i = 0; i < 300; i++) createTask(setup, { title: `task ${i}`, body: 'x'.repeat(200) });
  setup.close();
  return path;
}

/** The header of a table's or an index's root page scribbled over, as a bad disk or a stray write would. */
function scribbleOverAPage(path: string, name = 'tasks'): void {
  const reader = openStore(path);
  const root = reader.db.prepare('SELECT rootpage FROM sqlite_schema WHERE name = ?').pluck().get(name) as number;
  const pageSize = Number(reader.db.pragma('page_size', { simple: true }));
  reader.close();
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(64, 0xff), 0, 64, pageSize * (root - 1));
  closeSync(fd);
}

describe('a corrupt board met through the port', () => {
  it("a dispatcher's board runs the full check again when it is due (maintain, each tick): a page corrupted since the open is found, refused and copied aside", async () => {
    const path = boardOf300();
    const store = openStore(path, { waitAsync: true });
    store.db.pragma('cache_size = 0'); // pages read from the file again, as after an hour of other work
    const board = new SqliteBoard(store, 0);
    await board.maintain(); // clean: nothing found
    scribbleOverAPage(path, 'tasks_status'); // an index no statement here reads: the full check finds it
    const corrupt = /board .*board\.db is corrupt \(quick_check: .*\); it was left as it is and a copy was saved as .*\.bak$/;
    await expect(board.maintain()).rejects.toThrow(corrupt);
    await expect(board.transitions.create({ title: 'after' })).rejects.toThrow(corrupt);
    expect(readdirSync(dirname(path)).filter((name) => name.includes('.corrupt.') && name.endsWith('.bak'))).toHaveLength(1);
    await board.close();
  });

  it('verify: the full check on a thread of its own finds a page no statement here reads, refuses the board and copies it aside; a clean board passes', async () => {
    const path = boardOf300();
    const board = SqliteBoard.open(path, { checkIntegrity: false });
    await board.verify(); // clean
    scribbleOverAPage(path, 'tasks_status');
    const corrupt = /board .*board\.db is corrupt \(quick_check: .*\); it was left as it is and a copy was saved as .*\.bak$/;
    await expect(board.verify()).rejects.toThrow(corrupt);
    await expect(board.tasks.list()).rejects.toThrow(corrupt);
    expect(readdirSync(dirname(path)).filter((name) => name.includes('.corrupt.') && name.endsWith('.bak'))).toHaveLength(1);
    await board.close();
  });

  it('a board opened for a command is not checked again by maintain before the recheck is due', async () => {
    const path = boardOf300();
    const store = openStore(path, { waitAsync: true, checkIntegrity: false });
    store.db.pragma('cache_size = 0');
    const board = new SqliteBoard(store);
    scribbleOverAPage(path);
    await board.maintain();
    await board.close();
  });

  it('is refused as at open: copied aside once, left as it is, the connection closed, and every later call refused the same', async () => {
    const path = boardOf300();
    const store = openStore(path, { waitAsync: true });
    store.db.pragma('cache_size = 0'); // pages read from the file again, as a fresh process would
    const board = new SqliteBoard(store);
    scribbleOverAPage(path); // after the open's check
    const corrupt = /board .*board\.db is corrupt \(database disk image is malformed\); it was left as it is and a copy was saved as .*\.bak$/;
    await expect(board.tasks.list()).rejects.toThrow(corrupt);
    expect(store.db.open).toBe(false);
    await expect(board.transitions.create({ title: 'after' })).rejects.toThrow(corrupt);
    expect(readdirSync(dirname(path)).filter((name) => name.includes('.corrupt.') && name.endsWith('.bak'))).toEqual([`board.db.corrupt.${fileHash(path).slice(0, 16)}.bak`]);
    await board.close();
  });
});
