import { openDatabase } from './driver.js';

/** What `kanban boards` shows of a board's contents. */
export interface BoardPeek {
  tasks: number;
  running: number;
}

/**
 * A look at a board without opening it for use: no migration, no integrity scan, no copy of a
 * corrupt file, no pragma changed; a board written by another version is read as it is. Throws
 * SQLite's error when it cannot be read (not a database, no tasks table, locked past the timeout).
 */
export function peekBoard(path: string, busyTimeoutMs: number): BoardPeek {
  const db = openDatabase(path, { fileMustExist: true, timeout: busyTimeoutMs });
  try {
    return db.prepare("SELECT count(*) AS tasks, coalesce(sum(status = 'running'), 0) AS running FROM tasks").get() as BoardPeek;
  } finally {
    db.close();
  }
}
