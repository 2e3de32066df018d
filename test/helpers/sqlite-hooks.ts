import Database from 'better-sqlite3';
import type { Store } from '../../src/store/db.js';
import type { RunRow, TaskRow } from '../../src/core/types.js';

/**
 * The SQLite factory's test hooks (the conformance suite's `snapshot` and `force`, and checks only a
 * SQLite board has): the one module outside the adapter's own tests that reads or writes the board
 * with SQL. Tests use these, the store's functions or the port, never SQL of their own.
 */

/** PRAGMA integrity_check says ok: a crash, a race or a full disk left the file whole. */
export function integrityOk(store: Store): boolean {
  return store.db.pragma('integrity_check', { simple: true }) === 'ok';
}

/** Where the named event cursor stands (undefined: not started yet). */
export function cursorOf(store: Store, name: string): number | undefined {
  return store.db.prepare('SELECT event_id FROM event_cursors WHERE name = ?').pluck().get(name) as number | undefined;
}

/** How many rows `table` has (a count the port has no reason to offer: every run, every event). */
export function rowCount(store: Store, table: 'tasks' | 'task_runs' | 'task_events'): number {
  return store.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
}

/** Every row of every table, for asserting that a refused operation wrote nothing. */
export function dumpBoard(store: Store): Record<string, unknown[]> {
  const tables = ['tasks', 'task_links', 'task_runs', 'task_events', 'task_comments'];
  return Object.fromEntries(tables.map((t) => [t, store.db.prepare(`SELECT * FROM ${t} ORDER BY 1, 2`).raw().all()]));
}

/**
 * Test hook: sets columns of a task's row directly, for a state the transitions would not make (a
 * ghost running task, a tripped breaker, a stamp from another clock). The one place tests write a
 * task's row; the conformance suite of a second backend gives the same hook.
 */
export function forceTask(store: Store, id: string, patch: Partial<TaskRow>): void {
  const columns = Object.keys(patch);
  store.db.prepare(`UPDATE tasks SET ${columns.map((c) => `${c} = @${c}`).join(', ')} WHERE id = @id`).run({ ...patch, id });
}

/** Test hook: sets columns of a run's row directly (a supervisor pid that is not alive, a stamp from another clock). */
export function forceRun(store: Store, runId: number, patch: Partial<RunRow>): void {
  const columns = Object.keys(patch);
  store.db.prepare(`UPDATE task_runs SET ${columns.map((c) => `${c} = @${c}`).join(', ')} WHERE id = @id`).run({ ...patch, id: runId });
}

/** Another connection holding the board's write lock (BEGIN IMMEDIATE) until `release`. */
export function holdWriteLock(path: string): { release(): void } {
  const holder = new Database(path, { timeout: 5_000 });
  holder.exec('BEGIN IMMEDIATE');
  return {
    release: () => {
      holder.exec('ROLLBACK');
      holder.close();
    },
  };
}

/** A connection that asks, without waiting, whether someone holds the board's write lock. */
export function writeLockProbe(path: string): { held(): boolean; close(): void } {
  const probe = new Database(path, { timeout: 0 });
  return {
    held: () => {
      try {
        probe.exec('BEGIN IMMEDIATE; ROLLBACK');
        return false;
      } catch {
        return true; // SQLITE_BUSY
      }
    },
    close: () => probe.close(),
  };
}

/** A reader holding one snapshot open until `close`: every commit meanwhile stays in the WAL. */
export function openReader(path: string): { close(): void } {
  const reader = new Database(path, { readonly: true });
  reader.exec('BEGIN');
  reader.prepare('SELECT count(*) FROM tasks').get();
  return {
    close: () => {
      reader.exec('COMMIT');
      reader.close();
    },
  };
}

/** Every update of `table` on this connection fails with `message` (a temporary trigger): a store failure that is not the machine's. */
export function failUpdates(store: Store, table: 'tasks' | 'task_runs', message: string): void {
  store.db.exec(`CREATE TEMP TRIGGER fail_${table} BEFORE UPDATE ON ${table} BEGIN SELECT RAISE(ABORT, '${message.replace(/'/g, "''")}'); END`);
}

/** Stamps the board's schema version (PRAGMA user_version), as a newer kanban would leave it. */
export function setSchemaVersion(path: string, version: number): void {
  const raw = new Database(path);
  raw.pragma(`user_version = ${version}`);
  raw.close();
}

/** PRAGMA quick_check says ok. */
export function quickCheckOk(store: Store): boolean {
  return store.db.pragma('quick_check', { simple: true }) === 'ok';
}
