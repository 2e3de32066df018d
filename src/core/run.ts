/**
 * A run's identity and what it says, pure. A run is identified by (task, run id, claim lock); every
 * write made on its behalf carries all three, and a write whose identity no longer matches is
 * refused with nothing written: a stale worker can never touch a newer attempt.
 */
import type { TaskRow } from '../core/types.js';

export interface RunIdentity {
  taskId: string;
  runId: number;
  claimLock: string;
}

/** The host part of a claim lock (`<host>:<pid>:<random>`), to tell whether its processes can be checked from here. */
export function claimHost(claimLock: string): string {
  return claimLock.slice(0, claimLock.lastIndexOf(':', claimLock.lastIndexOf(':') - 1));
}

/** The identity of the run a running task holds, read from the task (null: it holds none). */
export function identityOf(task: TaskRow): RunIdentity | null {
  return task.status === 'running' && task.current_run_id !== null && task.claim_lock !== null
    ? { taskId: task.id, runId: task.current_run_id, claimLock: task.claim_lock }
    : null;
}

/** Leaving running for a non-running status drops every trace of the claim. */
export const NO_CLAIM = { claim_lock: null, claim_expires: null, worker_pid: null, current_run_id: null } as const;
