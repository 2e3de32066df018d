import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';
import type { Clock } from '../../src/clock.js';
import { openStore, type Store } from '../../src/store/db.js';
import type { Status } from '../../src/core/types.js';
import { eventsForTask } from '../../src/store/events.js';
import { forceRun, forceTask } from './sqlite-hooks.js';

export { cursorOf, dumpBoard, forceRun, forceTask, integrityOk, rowCount } from './sqlite-hooks.js';
import { createTask } from '../../src/store/tasks.js';
import { claimTask } from '../../src/store/lease.js';
import type { ClaimResult } from '../../src/port/types.js';

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
 * A task put directly into `status` (test setup only: the force hook, past the transitions). A
 * running task is claimed, its claim and worker then made another host's (`host:1:abc`, pid 4242).
 */
export function taskIn(store: Store, status: Status, title = `a ${status} task`): string {
  const { task } = createTask(store, { title });
  if (status === 'running') {
    const { identity } = claimOrFail(store, task.id, { profile: null, leaseMs: 900_000 });
    forceRun(store, identity.runId, { claim_lock: 'host:1:abc', worker_pid: 4242 });
    forceTask(store, task.id, { claim_lock: 'host:1:abc', worker_pid: 4242 });
  } else {
    forceTask(store, task.id, { status, scheduled_until: status === 'scheduled' ? store.clock.now() + 3_600_000 : null });
  }
  return task.id;
}

export function eventKinds(store: Store, taskId: string): string[] {
  return eventsForTask(store, taskId).map((e) => e.kind);
}

export function lastEvent(store: Store, taskId: string): { kind: string; payload: Record<string, unknown> } {
  const { kind, payload } = eventsForTask(store, taskId).at(-1)!;
  return { kind, payload };
}

/** claimTask where the test needs the claim: its run and identity, or the test fails saying why not. */
export function claimOrFail(store: Store, taskId: string, options: Parameters<typeof claimTask>[2]): Extract<ClaimResult, { claimed: true }> {
  const claim = claimTask(store, taskId, options);
  if (!claim.claimed) throw new Error(`could not claim ${taskId}: ${claim.reason}`);
  return claim;
}

