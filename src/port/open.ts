import type { Clock } from '../clock.js';
import type { BoardStore } from './board.js';

export interface OpenBoardOptions {
  clock?: Clock;
  busyTimeoutMs?: number;
  /** Check the board's integrity before anything else (default); commands that only read skip it. */
  checkIntegrity?: boolean;
  /** A board that does not exist is an error, not created (commands that only read). */
  mustExist?: boolean;
}

/**
 * Opens the board at `location` through the adapter for its kind, loaded on demand. A file path is a
 * SQLite board, the only backend so far; this is where a server URL will choose its own.
 */
export async function openBoard(location: string, options: OpenBoardOptions = {}): Promise<BoardStore> {
  const { SqliteBoard } = await import('../store/sqlite-board.js');
  return SqliteBoard.open(location, options);
}

/**
 * A look at a board without opening it for use (what `kanban boards` lists): its task counts. Nothing
 * is migrated, checked, copied or changed, and a board another version wrote is read as it is.
 * Throws when it cannot be read.
 */
export async function peekBoard(location: string, busyTimeoutMs: number): Promise<{ tasks: number; running: number }> {
  const { peekBoard: peekSqlite } = await import('../store/peek.js');
  return peekSqlite(location, busyTimeoutMs);
}
