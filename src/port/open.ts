import type { Clock } from '../clock.js';
import { isBoardUrl } from '../location.js';
import type { BoardStore } from './board.js';

export interface OpenBoardOptions {
  clock?: Clock;
  busyTimeoutMs?: number;
  /** The full integrity check before anything else (default): a dispatcher's start and `init`; other opens make a cheap one. */
  checkIntegrity?: boolean;
  /** A board that does not exist is an error, not created (commands that only read). */
  mustExist?: boolean;
}

/**
 * Opens the board at `location` through the adapter for its kind, loaded on demand (a SQLite command
 * never loads pg): a `postgres://` URL is a PostgreSQL board, anything else a SQLite file.
 */
export async function openBoard(location: string, options: OpenBoardOptions = {}): Promise<BoardStore> {
  if (isBoardUrl(location)) {
    const { PgBoard } = await import('../pg/board.js');
    return PgBoard.open(location, { ...(options.clock && { clock: options.clock }), ...(options.busyTimeoutMs !== undefined && { busyTimeoutMs: options.busyTimeoutMs }), mustExist: options.mustExist ?? false });
  }
  const { SqliteBoard } = await import('../store/sqlite-board.js');
  return SqliteBoard.open(location, options);
}

/**
 * A look at a board without opening it for use (what `kanban boards` lists): its task counts. Nothing
 * is migrated, checked, copied or changed, and a board another version wrote is read as it is.
 * Throws when it cannot be read.
 */
export async function peekBoard(location: string, busyTimeoutMs: number): Promise<{ tasks: number; running: number }> {
  if (isBoardUrl(location)) {
    const board = await openBoard(location, { busyTimeoutMs, mustExist: true });
    try {
      const [tasks, running] = await Promise.all([board.tasks.count(), board.dispatch.runningCounts()]);
      return { tasks, running: running.total };
    } finally {
      await board.close();
    }
  }
  const { peekBoard: peekSqlite } = await import('../store/peek.js');
  return peekSqlite(location, busyTimeoutMs);
}
