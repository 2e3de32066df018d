import type { Store } from '../../src/store/db.js';
import { completeRun, recordExit } from '../../src/store/lease.js';
import { createTask } from '../../src/store/tasks.js';
import type { ManualClock } from './board.js';
import { claimOrFail } from './board.js';

/** How a run made by `run` ends; `open` leaves it running. */
export type RunEnd = 'completed' | 'crashed' | { rateLimitedFor: number } | 'open';

/**
 * A board's history, made through the store's own transitions on a manual clock: a run of `taskId`
 * as `profile` from `from` to `to` (epoch ms), ending as `end` says.
 */
export function run(store: Store, clock: ManualClock, taskId: string, profile: string | null, from: number, to: number, end: RunEnd): number {
  clock.set(from);
  const { identity } = claimOrFail(store, taskId, { profile, leaseMs: 900_000 });
  if (end === 'open') return identity.runId;
  clock.set(to);
  const failures = { limit: 1_000, limitSource: 'test' };
  if (end === 'completed') completeRun(store, identity, 'done');
  else if (end === 'crashed') recordExit(store, identity, { exitCode: 1, signal: null, failures });
  else recordExit(store, identity, { exitCode: 75, signal: null, failures, rateLimitCooldownMs: end.rateLimitedFor });
  return identity.runId;
}

/** A new task, created at `at`. */
export function taskAt(store: Store, clock: ManualClock, at: number, title = 'a task'): string {
  clock.set(at);
  return createTask(store, { title }).task.id;
}
