/**
 * A run's identity and what it says, pure. A run is identified by (task, run id, claim lock); every write made on its behalf carries all three, and a write whose identity no
 * longer matches is refused with nothing written: a stale worker can never touch a newer attempt.
 * The words of a claim's and a run's refusals are here, so that every backend says the same.
 */
import type { ClaimCaps, Release } from '../port/types.js';
import type { Status, TaskRow } from '../core/types.js';

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

/**
 * No worker of the run was ever recorded: its claimer died before launching a supervisor, or the
 * supervisor before starting the worker (a start slower than the lease on a loaded host, a host cut
 * off or killed). Nothing of the task ran, so taking the run back is the machine's fault, not counted.
 */
export function noWorkerRecorded(run: { supervisor_pid: number | null; worker_pid: number | null }): boolean {
  return run.supervisor_pid === null || run.worker_pid === null;
}

/** Leaving running for a non-running status drops every trace of the claim. */
export const NO_CLAIM = { claim_lock: null, claim_expires: null, worker_pid: null, current_run_id: null } as const;

/** Why a task cannot be claimed as it is (not ready, or a claim left on it); null: it may be. */
export function claimRefusal(task: { id: string; status: Status; claim_lock: string | null }): string | null {
  if (task.status !== 'ready') return `cannot claim ${task.id}: it is ${task.status}`;
  if (task.claim_lock !== null) return `cannot claim ${task.id}: it still holds the claim ${task.claim_lock}`;
  return null;
}

/**
 * Why a claim passes a candidate over: it cannot be claimed as it is, or it was to get the default
 * assignee and someone assigned it meanwhile (its run would be the wrong profile's); null: it may be claimed.
 */
export function candidateRefusal(task: { id: string; status: Status; claim_lock: string | null; assignee: string | null }, candidate: { assign?: boolean }): string | null {
  const refusal = claimRefusal(task);
  if (refusal !== null || !candidate.assign || task.assignee === null) return refusal;
  return `cannot claim ${task.id} for the default assignee: it is assigned to ${task.assignee} now`;
}

/** A claim that lost to another: the task was claimed (or is being changed) by someone else first. */
export function claimedFirst(taskId: string): string {
  return `cannot claim ${taskId}: it was claimed first`;
}

/** A claim not made because a new run would break `atCap`: what it says. */
export function capRefusal(atCap: 'board' | 'profile', caps: ClaimCaps, profile: string | null): { atCap: 'board' | 'profile'; reason: string } {
  return atCap === 'board'
    ? { atCap, reason: `the board is at its cap of ${caps.board} running` }
    : { atCap, reason: `profile ${profile} is at its cap of ${caps.profile}` };
}

/** Which cap a new run would break, given the running counts (`mine` read only when a profile cap applies). */
export function capReached(caps: ClaimCaps, profile: string | null, running: number, mine: () => number): { atCap: 'board' | 'profile'; reason: string } | null {
  if (running >= caps.board) return capRefusal('board', caps, profile);
  if (caps.profile === undefined || profile === null) return null;
  return mine() >= caps.profile ? capRefusal('profile', caps, profile) : null;
}

/** Why a task waiting on a parent may not run: the first unfinished parent, in words. */
export function parentNotDone(parent: { id: string; status: string }): string {
  return `parent ${parent.id} is not done (${parent.status})`;
}

/**
 * The refusal's words for an identity that no longer owns its task, saying what happened instead
 * (`task`: the task as it is, undefined when it is not on the board).
 */
export function notOwnerMessage(identity: RunIdentity, task: { status: Status; current_run_id: number | null } | undefined): string {
  const run = `run ${identity.runId} of ${identity.taskId}`;
  if (!task) return `${run} is not on this board`;
  if (task.status !== 'running') return `${run} no longer holds the task: it is ${task.status}`;
  if (task.current_run_id !== identity.runId) return `${run} no longer holds the task: run ${task.current_run_id} does`;
  return `${run} does not hold the task: the claim lock does not match`;
}

/** A take-back refused because a heartbeat moved the lease after the caller judged it. */
export function leaseMovedOnRelease(identity: RunIdentity): string {
  return `${identity.taskId} heartbeat moved its lease while it was being taken back: it stays with run ${identity.runId}`;
}

/** A lease extension refused because the lease moved after the caller judged it. */
export function leaseMovedOnExtend(identity: RunIdentity): string {
  return `${identity.taskId} lease moved meanwhile`;
}

/** The `error` a run taken back is closed with. */
export function releaseError(release: Release): string {
  return `taken back: ${release.outcome}${typeof release.payload.detail === 'string' ? ` (${release.payload.detail})` : ''}`;
}
