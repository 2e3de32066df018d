import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BoardLocked } from '../../src/errors.js';
import type { BoardStore } from '../../src/port/board.js';
import { openStore } from '../../src/store/db.js';
import { SqliteBoard } from '../../src/store/sqlite-board.js';
import { dumpBoard, forceTask, manualClock, tempDir } from '../helpers/board.js';
import { conformance, type Harness } from './suite.js';

/** The SQLite factory: a board file in a temp folder; the hooks use a plain connection of their own. */
async function openSqlite(clock = manualClock(), busyTimeoutMs?: number): Promise<Harness & { path: string }> {
  const path = join(tempDir('kanban-conformance-'), 'board.db');
  const open = () => SqliteBoard.open(path, { clock, ...(busyTimeoutMs !== undefined && { busyTimeoutMs }) });
  const board = open();
  const hooks = openStore(path, { clock });
  const others: BoardStore[] = [];
  return {
    path,
    board,
    second: async () => {
      const other = open();
      others.push(other);
      return other;
    },
    snapshot: async () => dumpBoard(hooks),
    force: async (taskId, patch) => forceTask(hooks, taskId, patch),
    close: async () => {
      await Promise.all([board, ...others].map((b) => b.close()));
      hooks.close();
    },
  };
}

conformance({ name: 'SQLite', open: (clock) => openSqlite(clock) });

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
    const h = await openSqlite(manualClock(), 300);
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
