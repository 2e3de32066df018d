import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';
import type { Clock } from '../../src/clock.js';
import { openStore, type Store } from '../../src/store/db.js';
import type { RunRow, Status, TaskRow } from '../../src/core/types.js';
import { createTask } from '../../src/store/tasks.js';
import { claimTask, type ClaimResult } from '../../src/store/lease.js';

const openStores: Store[] = [];
const dirs: string[] = [];
afterEach(() => {
  while (openStores.length > 0) openStores.pop()!.close();
});
afterAll(() => {
  while (dirs.length > 0) rmSync(dirs.pop()!, { recursive: true, force: true });
});

/** A temporary folder, removed when the test file is done (so `beforeAll` may make one too). */
export function tempDir(prefix = 'kanban-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

export interface ManualClock extends Clock {
  set(ms: number): void;
  advance(ms: number): void;
}

export function manualClock(start = Date.UTC(2026, 10, 21, 9, 0, 0)): ManualClock {
  let now = start;
  return { now: () => now, set: (ms) => (now = ms), advance: (ms) => (now += ms) };
}

/** A real board file in a temp folder, closed after the test. */
export function testStore(clock: Clock = manualClock(), path = join(tempDir(), 'board.db')): Store {
  const store = openStore(path, { clock });
  openStores.push(store);
  return store;
}

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
 * A task put directly into `status` (test setup only: it bypasses the transitions). A running task
 * gets an open run and a claim, as the lease code will give it.
 */
export function taskIn(store: Store, status: Status, title = `a ${status} task`): string {
  const { task } = createTask(store, { title });
  const now = store.clock.now();
  if (status === 'running') {
    const run = store.db
      .prepare(`INSERT INTO task_runs (task_id, status, claim_lock, worker_pid, started_at) VALUES (?, 'running', 'host:1:abc', 4242, ?)`)
      .run(task.id, now);
    store.db
      .prepare(`UPDATE tasks SET status = 'running', claim_lock = 'host:1:abc', claim_expires = ?, worker_pid = 4242, current_run_id = ?, started_at = ? WHERE id = ?`)
      .run(now + 900_000, Number(run.lastInsertRowid), now, task.id);
  } else {
    const until = status === 'scheduled' ? now + 3_600_000 : null;
    forceTask(store, task.id, { status, scheduled_until: until });
  }
  return task.id;
}

export function eventKinds(store: Store, taskId: string): string[] {
  return store.db.prepare('SELECT kind FROM task_events WHERE task_id = ? ORDER BY id').pluck().all(taskId) as string[];
}

export function lastEvent(store: Store, taskId: string): { kind: string; payload: Record<string, unknown> } {
  const row = store.db.prepare('SELECT kind, payload FROM task_events WHERE task_id = ? ORDER BY id DESC LIMIT 1').get(taskId) as {
    kind: string;
    payload: string;
  };
  return { kind: row.kind, payload: JSON.parse(row.payload) as Record<string, unknown> };
}

/** claimTask where the test needs the claim: its run and identity, or the test fails saying why not. */
export function claimOrFail(store: Store, taskId: string, options: Parameters<typeof claimTask>[2]): Extract<ClaimResult, { claimed: true }> {
  const claim = claimTask(store, taskId, options);
  if (!claim.claimed) throw new Error(`could not claim ${taskId}: ${claim.reason}`);
  return claim;
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
