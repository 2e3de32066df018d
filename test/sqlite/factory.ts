import { join } from 'node:path';
import type { BoardStore } from '../../src/port/board.js';
import { openStore } from '../../src/store/db.js';
import { SqliteBoard } from '../../src/store/sqlite-board.js';
import { manualClock, tempDir, type ManualClock } from '../helpers/board.js';
import { dumpBoard, forceTask } from '../helpers/sqlite-hooks.js';
import type { BoardFactory, Harness } from '../conformance/suite.js';
/**
 * The SQLite factory: a board file in a temp folder, the hooks on a plain connection of their own;
 * alone, a board in memory whose hooks use the adapter's connection between its calls.
 */
export async function openSqlite(clock = manualClock(), options: { alone?: boolean; busyTimeoutMs?: number } = {}): Promise<Harness & { path: string }> {
  if (options.alone) {
    const store = openStore(':memory:', { clock, waitAsync: true });
    const board = new SqliteBoard(store);
    return {
      path: ':memory:',
      board,
      second: () => Promise.reject(new Error('a board in memory has no second connection')),
      snapshot: async () => dumpBoard(store),
      force: async (taskId, patch) => forceTask(store, taskId, patch),
      close: () => board.close(),
    };
  }
  const path = join(tempDir('kanban-conformance-'), 'board.db');
  const open = () => SqliteBoard.open(path, { clock, ...(options.busyTimeoutMs !== undefined && { busyTimeoutMs: options.busyTimeoutMs }) });
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

export const sqliteFactory: BoardFactory = { name: 'SQLite', open: (clock: ManualClock, options?: { alone?: boolean }) => openSqlite(clock, options) };
