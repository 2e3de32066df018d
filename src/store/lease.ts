import { Refused } from '../errors.js';
import type { Store } from './db.js';
import { newClaimLock } from '../host.js';
import { appendEvent } from './events.js';
import type { Ending } from '../core/ending.js';
import { endingOfExitAlone } from '../core/exit.js';
import { markDone, NO_CLAIM, readyOrTodo, sendToReview } from './lifecycle.js';
import { unfinishedParents } from './links.js';
import { getTaskRow, requireTaskRow, updateTask, type TaskChanges } from './rows.js';
import { assignDefaultIn } from './dispatch.js';
import { createTask } from './tasks.js';
import type { RunOutcome, RunRow, TaskRow } from '../core/types.js';
import { decideFailure, type FailurePolicy } from '../core/breaker.js';
import { candidateRefusal, capReached as capOf, claimedFirst, claimRefusal, leaseMovedOnExtend, leaseMovedOnRelease, notOwnerMessage, parentNotDone, releaseError, type RunIdentity } from '../core/run.js';
import type { ClaimCandidate, ClaimCaps, ClaimResult, CreateInput, CreateResult, ExitRecord, HeartbeatSource, Release, WorkerExit } from '../port/types.js';

/**
 * Claim, heartbeat and release. Every write made on a run's behalf carries its identity (core/run.ts)
 * in its WHERE, and zero rows changed means refused with nothing written, not even an event.
 */

/**
 * Which cap a new run would break, read in the claim's transaction: with any number of dispatchers
 * on one board, the count cannot change between this read and the claim's write.
 */
function capReached(store: Store, profile: string | null, caps: ClaimCaps): { atCap: 'board' | 'profile'; reason: string } | null {
  const running = store.stmt("SELECT count(*) FROM tasks WHERE status = 'running'").pluck().get() as number;
  return capOf(caps, profile, running, () => store.stmt("SELECT count(*) FROM tasks WHERE status = 'running' AND assignee = ?").pluck().get(profile) as number);
}

/**
 * ready → running in one compare-and-set (`status = 'ready' AND claim_lock IS NULL`): opens a run and
 * takes the lease, unless that would break a cap (`caps`, counted in the same transaction). If a
 * parent is no longer finished, the task goes back to todo instead, unless a person forced it ready
 * (`promote --force`) since it last ran.
 */
export function claimTask(store: Store, taskId: string, options: { profile: string | null; leaseMs: number; caps?: ClaimCaps }): ClaimResult {
  return store.writeTxn(() => {
    const task = requireTaskRow(store, taskId);
    const refusal = claimRefusal(task);
    if (refusal !== null) throw new Refused(refusal);
    return claimReady(store, task, { taskId, ...options }, options.leaseMs);
  });
}

/**
 * The first of `candidates` that can be claimed, claimed (port: RunLease.claimFirst). One write
 * transaction: the write lock is the board's, so what each candidate is read as holds until commit.
 */
export function claimFirst(store: Store, candidates: readonly ClaimCandidate[], options: { leaseMs: number }): ClaimResult | null {
  return store.writeTxn(() => {
    for (const candidate of candidates) {
      const task = getTaskRow(store, candidate.taskId);
      if (task && candidateRefusal(task, candidate) === null) return claimReady(store, task, candidate, options.leaseMs);
    }
    return null;
  });
}

/** The claim of a task read as claimable in this transaction. */
function claimReady(store: Store, before: TaskRow, candidate: ClaimCandidate, leaseMs: number): ClaimResult {
  const taskId = before.id;
  const full = candidate.caps && capReached(store, candidate.profile, candidate.caps);
  if (full) return { claimed: false, task: before, ...full };
  const unfinished = unfinishedParents(store, taskId);
  if (unfinished.length > 0 && !forcedSinceLastRun(store, taskId)) {
    const task = updateTask(store, before, { status: 'todo' });
    appendEvent(store, taskId, 'demoted', { from: 'ready', to: 'todo', unfinished_parents: unfinished.map((p) => p.id) });
    return { claimed: false, task, reason: parentNotDone(unfinished[0]!) };
  }
  const assigned = candidate.assign ? assignDefaultIn(store, before, candidate.profile!) : before;
  const now = store.clock.now();
  const claimLock = newClaimLock();
  const run = store
    .stmt(`INSERT INTO task_runs (task_id, profile, status, claim_lock, started_at, lease_ms) VALUES (?, ?, 'running', ?, ?, ?) RETURNING *`)
    .get(taskId, candidate.profile, claimLock, now, leaseMs) as RunRow;
  const claim = {
    status: 'running',
    claim_lock: claimLock,
    claim_expires: now + leaseMs,
    current_run_id: run.id,
    worker_pid: null,
    last_heartbeat_at: null,
    started_at: now,
    updated_at: now,
  } as const;
  const result = store
    .stmt(
      `UPDATE tasks SET status = @status, claim_lock = @claim_lock, claim_expires = @claim_expires, current_run_id = @current_run_id,
         worker_pid = @worker_pid, last_heartbeat_at = @last_heartbeat_at, started_at = @started_at, updated_at = @updated_at
       WHERE id = @id AND status = 'ready' AND claim_lock IS NULL`,
    )
    .run({ ...claim, id: taskId });
  if (result.changes === 0) throw new Refused(claimedFirst(taskId));
  appendEvent(store, taskId, 'claimed', { run_id: run.id, profile: candidate.profile, claim_expires: claim.claim_expires, lease_ms: leaseMs }, run.id);
  const identity = { taskId, runId: run.id, claimLock };
  return { claimed: true, task: { ...assigned, ...claim }, run, identity };
}

/** A person promoted the task with --force since it last ran: its open parents do not hold it back until it runs. */
function forcedSinceLastRun(store: Store, taskId: string): boolean {
  return (
    store
      .stmt(
        `SELECT 1 FROM task_events WHERE task_id = @id AND kind = 'promoted_manual' AND json_extract(payload, '$.forced') = 1
           AND id > coalesce((SELECT max(id) FROM task_events WHERE task_id = @id AND kind = 'claimed'), 0)`,
      )
      .get({ id: taskId }) !== undefined
  );
}

// ---- fenced writes ----

const FENCE_TASK = "id = @task_id AND status = 'running' AND current_run_id = @run_id AND claim_lock = @claim_lock";
const FENCE_RUN = "id = @run_id AND task_id = @task_id AND claim_lock = @claim_lock AND status = 'running'";

function fence(identity: RunIdentity) {
  return { task_id: identity.taskId, run_id: identity.runId, claim_lock: identity.claimLock };
}

/** Writes `changes` to the task only while this run holds it. */
function updateTaskFenced(store: Store, identity: RunIdentity, changes: TaskChanges): boolean {
  const assignments = Object.keys(changes).map((c) => `${c} = @${c}`);
  const sql = `UPDATE tasks SET ${[...assignments, 'updated_at = @updated_at'].join(', ')} WHERE ${FENCE_TASK}`;
  return store.stmt(sql).run({ ...changes, updated_at: store.clock.now(), ...fence(identity) }).changes > 0;
}

/** Writes `changes` to the run only while it is open and this identity's. */
function updateRunFenced(store: Store, identity: RunIdentity, changes: Partial<RunRow>): boolean {
  const sql = `UPDATE task_runs SET ${Object.keys(changes).map((c) => `${c} = @${c}`).join(', ')} WHERE ${FENCE_RUN}`;
  return store.stmt(sql).run({ ...changes, ...fence(identity) }).changes > 0;
}

/** The refusal for an identity that no longer owns its task, saying what happened instead. */
function notOwner(store: Store, identity: RunIdentity): Refused {
  return new Refused(notOwnerMessage(identity, getTaskRow(store, identity.taskId)));
}

/**
 * The task, if this run holds it (else refused). Lock order: a transition that touches a task and
 * its run takes the task first (this read, or heartbeat's UPDATE of the task), then the run; a
 * backend with row locks takes the task FOR UPDATE here, so heartbeat and a take-back cannot
 * deadlock each other.
 */
function ownedTask(store: Store, identity: RunIdentity): TaskRow {
  const task = store.stmt(`SELECT * FROM tasks WHERE ${FENCE_TASK}`).get(fence(identity)) as TaskRow | undefined;
  if (!task) throw notOwner(store, identity);
  return task;
}

/** `worker guard`: does this identity still own its task? Reads only. */
export function checkOwnership(store: Store, identity: RunIdentity): TaskRow {
  return store.readTxn(() => ownedTask(store, identity));
}

// ---- liveness ----

/**
 * The only liveness write: moves `claim_expires` to now + the run's lease and `last_heartbeat_at` to
 * now, on the task and on the run, in one transaction, with a `heartbeat` event.
 */
export function heartbeat(store: Store, identity: RunIdentity, options: { note?: string | null; source?: HeartbeatSource } = {}): TaskRow {
  return store.writeTxn(() => {
    const run = store.stmt(`SELECT lease_ms FROM task_runs WHERE ${FENCE_RUN}`).get(fence(identity)) as { lease_ms: number } | undefined;
    const now = store.clock.now();
    const claimExpires = now + (run?.lease_ms ?? 0);
    if (!run || !updateTaskFenced(store, identity, { claim_expires: claimExpires, last_heartbeat_at: now })) throw notOwner(store, identity);
    updateRunFenced(store, identity, { last_heartbeat_at: now });
    const payload = { source: options.source ?? 'worker', claim_expires: claimExpires, ...(options.note ? { note: options.note } : {}) };
    appendEvent(store, identity.taskId, 'heartbeat', payload, identity.runId);
    return ownedTask(store, identity);
  });
}

/** The supervisor records itself on the run, so the reaper can tell whether the run still has an owner. */
export function attachSupervisor(store: Store, identity: RunIdentity, supervisorPid: number): void {
  store.writeTxn(() => {
    if (!updateRunFenced(store, identity, { supervisor_pid: supervisorPid })) throw notOwner(store, identity);
  });
}

/** The worker process is running: its pid (the leader of its own process group) and workspace. */
export function recordSpawn(store: Store, identity: RunIdentity, spawn: { workerPid: number; argv: readonly string[]; workspace: string }): void {
  store.writeTxn(() => {
    if (!updateTaskFenced(store, identity, { worker_pid: spawn.workerPid, workspace_path: spawn.workspace })) throw notOwner(store, identity);
    updateRunFenced(store, identity, { worker_pid: spawn.workerPid });
    appendEvent(store, identity.taskId, 'spawned', { worker_pid: spawn.workerPid, argv: spawn.argv, workspace: spawn.workspace }, identity.runId);
  });
}

// ---- the worker's own transitions ----

function closeRun(store: Store, identity: RunIdentity, ending: Partial<RunRow> & { outcome: RunOutcome }): void {
  if (!updateRunFenced(store, identity, { status: 'ended', ended_at: store.clock.now(), ...ending })) throw notOwner(store, identity);
}

/** `worker complete`: done, the run closed `completed`. */
export function completeRun(store: Store, identity: RunIdentity, summary: string | null = null): TaskRow {
  return store.writeTxn(() => {
    const before = ownedTask(store, identity);
    closeRun(store, identity, { outcome: 'completed', summary });
    return markDone(store, before, summary, 'worker');
  });
}

/** `worker block`: a sticky block (only unblock releases it), the run closed `blocked`. */
export function blockRun(store: Store, identity: RunIdentity, reason: string): TaskRow {
  return store.writeTxn(() => {
    const before = ownedTask(store, identity);
    closeRun(store, identity, { outcome: 'blocked', summary: reason });
    const after = updateTask(store, before, { ...NO_CLAIM, status: 'blocked', status_reason: reason });
    appendEvent(store, identity.taskId, 'blocked', { from: 'running', reason, source: 'worker', sticky: true }, identity.runId);
    return after;
  });
}

/** `worker review`: the work goes to the review lane (a person approves or requests changes), the run closed `review`. */
export function reviewRun(store: Store, identity: RunIdentity, summary: string | null = null): TaskRow {
  return store.writeTxn(() => {
    const before = ownedTask(store, identity);
    closeRun(store, identity, { outcome: 'review', summary });
    return sendToReview(store, before, summary, 'worker');
  });
}

/**
 * `worker create`: a follow-up task, a child of the run's task unless other parents are named, made
 * only while the run holds its task (event `follow_up` on the run's task names it).
 */
export function createFromRun(store: Store, identity: RunIdentity, input: CreateInput): CreateResult {
  return store.writeTxn(() => {
    ownedTask(store, identity);
    const parents = input.parents && input.parents.length > 0 ? input.parents : [identity.taskId];
    const result = createTask(store, { ...input, parents });
    if (result.created) appendEvent(store, identity.taskId, 'follow_up', { task_id: result.task.id, title: result.task.title }, identity.runId);
    return result;
  });
}

/** `worker comment`: a comment from the worker, refused once the run no longer holds the task. */
export function commentFromRun(store: Store, identity: RunIdentity, text: string): void {
  store.writeTxn(() => {
    const inserted = store
      .stmt(
        `INSERT INTO task_comments (task_id, run_id, author, body, created_at)
         SELECT @task_id, @run_id, 'worker', @body, @now FROM tasks WHERE ${FENCE_TASK} RETURNING id`,
      )
      .get({ ...fence(identity), body: text, now: store.clock.now() }) as { id: number } | undefined;
    if (!inserted) throw notOwner(store, identity);
    appendEvent(store, identity.taskId, 'commented', { comment_id: inserted.id, author: 'worker' }, identity.runId);
  });
}

// ---- how a run ends ----

/**
 * The one function that counts a failure, for every counted outcome: consecutive_failures + 1, the
 * outcome's event, and at the limit (the task's max_retries, else the board's) blocked with `gave_up`
 * instead of back to ready. The claim is dropped either way.
 */
function countFailure(store: Store, before: TaskRow, outcome: RunOutcome, details: Record<string, unknown>, policy: FailurePolicy): TaskRow {
  const { failures, limit, limitSource, gaveUp, reason } = decideFailure(before, outcome, policy);
  const runId = before.current_run_id;
  appendEvent(store, before.id, outcome, { ...details, failures, limit }, runId);
  if (!gaveUp) {
    return updateTask(store, before, { ...NO_CLAIM, status: readyOrTodo(store, before.id), consecutive_failures: failures });
  }
  const after = updateTask(store, before, { ...NO_CLAIM, status: 'blocked', status_reason: reason, consecutive_failures: failures });
  appendEvent(store, before.id, 'gave_up', { failures, limit, limit_source: limitSource, trigger: outcome }, runId);
  return after;
}

/**
 * Records how the worker ended, in one fenced transition, storing its exit code and signal on the run.
 * A run the worker already closed (complete, block, review) only gets its exit code. Otherwise the
 * ending (core/ending.ts) decides: done or review with the agent's answer; rate_limited back to
 * ready with a cooldown, counter untouched; blocked (sticky) when credentials were refused; or a
 * counted failure (crashed, hung, timed_out, protocol_violation).
 */
export function recordExit(store: Store, identity: RunIdentity, exit: WorkerExit): ExitRecord {
  return store.writeTxn(() => {
    const run = store
      .stmt('SELECT * FROM task_runs WHERE id = @run_id AND task_id = @task_id AND claim_lock = @claim_lock')
      .get(fence(identity)) as RunRow | undefined;
    if (!run) throw notOwner(store, identity);
    const how = { exit_code: exit.exitCode, signal: exit.signal };
    if (run.status === 'ended') {
      store
        .stmt('UPDATE task_runs SET exit_code = @exit_code, signal = @signal WHERE id = @run_id AND claim_lock = @claim_lock AND exit_code IS NULL AND signal IS NULL')
        .run({ ...how, ...fence(identity) });
      return { outcome: run.outcome!, alreadyClosed: true, task: getTaskRow(store, identity.taskId) };
    }
    const before = ownedTask(store, identity);
    const now = store.clock.now();
    const ending = exit.ending ?? endingOfExitAlone(exit, now);
    closeRun(store, identity, { outcome: ending.outcome, ...how, error: ending.error, summary: ending.summary });
    return { outcome: ending.outcome, alreadyClosed: false, task: applyEnding(store, before, ending, how, exit.failures, exit.machineFault) };
  });
}

function applyEnding(store: Store, before: TaskRow, ending: Ending, how: Record<string, unknown>, failures: FailurePolicy, machineFault?: WorkerExit['machineFault']): TaskRow {
  const runId = before.current_run_id;
  switch (ending.outcome) {
    case 'completed':
      return markDone(store, before, ending.summary, 'clean_exit');
    case 'review':
      return sendToReview(store, before, ending.summary, 'clean_exit');
    case 'rate_limited': {
      const cooldownUntil = store.clock.now() + (ending.cooldownMs ?? 0);
      const task = updateTask(store, before, { ...NO_CLAIM, status: readyOrTodo(store, before.id) });
      appendEvent(store, before.id, 'rate_limited', { ...how, cooldown_until: cooldownUntil, error: ending.error }, runId);
      return task;
    }
    case 'blocked': {
      const reason = ending.blockReason ?? ending.error ?? 'blocked';
      const task = updateTask(store, before, { ...NO_CLAIM, status: 'blocked', status_reason: reason });
      appendEvent(store, before.id, 'blocked', { from: 'running', reason, source: 'supervisor', sticky: true, ...how }, runId);
      return task;
    }
    default:
      if (machineFault) return requeueUncounted(store, before, ending.outcome, { ...how, error: ending.error, fault: machineFault.fault }, machineFault.retryInMs);
      return countFailure(store, before, ending.outcome, { ...how, error: ending.error }, failures);
  }
}

/**
 * A failed run that was not the task's fault (the config's or the machine's): back to ready with the
 * counter untouched, and no new run for `retryInMs` (the event's `cooldown_until`), so it does not spin.
 */
function requeueUncounted(store: Store, before: TaskRow, outcome: RunOutcome, details: Record<string, unknown>, retryInMs: number): TaskRow {
  const after = updateTask(store, before, { ...NO_CLAIM, status: readyOrTodo(store, before.id) });
  appendEvent(store, before.id, outcome, { ...details, counted: false, cooldown_until: store.clock.now() + retryInMs }, before.current_run_id);
  return after;
}

/**
 * Takes a running task back from its run: the run closed with the outcome, the task back to ready
 * (todo while a parent is unfinished), an event of that kind; counted only when `counted` says so.
 */
export function releaseRun(store: Store, identity: RunIdentity, release: Release): TaskRow {
  return store.writeTxn(() => {
    const before = ownedTask(store, identity);
    if (release.expectedClaimExpires !== undefined && before.claim_expires !== release.expectedClaimExpires) {
      throw new Refused(leaseMovedOnRelease(identity));
    }
    const error = releaseError(release);
    closeRun(store, identity, { outcome: release.outcome, error });
    if (release.counted) return countFailure(store, before, release.outcome, release.payload, release.counted);
    const after = updateTask(store, before, { ...NO_CLAIM, status: readyOrTodo(store, before.id) });
    appendEvent(store, identity.taskId, release.outcome, release.payload, identity.runId);
    return after;
  });
}

/** The dispatcher extends the lease of a run whose supervisor is alive and recently heard from. */
export function extendClaim(store: Store, identity: RunIdentity, expectedClaimExpires: number | null, payload: Record<string, unknown>): TaskRow {
  return store.writeTxn(() => {
    const before = ownedTask(store, identity);
    if (before.claim_expires !== expectedClaimExpires) throw new Refused(leaseMovedOnExtend(identity));
    const run = store.stmt(`SELECT lease_ms FROM task_runs WHERE ${FENCE_RUN}`).get(fence(identity)) as { lease_ms: number };
    const claimExpires = store.clock.now() + run.lease_ms;
    updateTaskFenced(store, identity, { claim_expires: claimExpires });
    appendEvent(store, identity.taskId, 'claim_extended', { ...payload, previous: expectedClaimExpires, claim_expires: claimExpires }, identity.runId);
    return ownedTask(store, identity);
  });
}

/**
 * The run's supervisor renews its own lease (a board other hosts share: they cannot see its
 * processes): claim_expires moved to now + the run's lease, only while the run was heard from (its
 * last heartbeat, else its start) within `maxStaleMs`; a silent run's lease is left to run out.
 */
export function renewLease(store: Store, identity: RunIdentity, options: { maxStaleMs: number }): { renewed: boolean; task: TaskRow } {
  return store.writeTxn(() => {
    const before = ownedTask(store, identity);
    const now = store.clock.now();
    if ((before.last_heartbeat_at ?? before.started_at ?? now) < now - options.maxStaleMs) return { renewed: false, task: before };
    const run = store.stmt(`SELECT lease_ms FROM task_runs WHERE ${FENCE_RUN}`).get(fence(identity)) as { lease_ms: number };
    const claimExpires = now + run.lease_ms;
    updateTaskFenced(store, identity, { claim_expires: claimExpires });
    appendEvent(store, identity.taskId, 'claim_extended', { source: 'supervisor', claim_expires: claimExpires }, identity.runId);
    return { renewed: true, task: ownedTask(store, identity) };
  });
}

/**
 * A run that ended without a recorded exit: `crashed` when its supervisor died first, `spawn_failed`
 * when the worker could not be started. Counted, unless `uncounted` says the fault was the config's
 * or the machine's (no such profile, no such program): then back to ready, with no respawn for
 * `retryInMs` so a broken config does not spin.
 */
export function recordFailedRun(
  store: Store,
  identity: RunIdentity,
  outcome: 'crashed' | 'spawn_failed',
  error: string,
  failures: FailurePolicy,
  uncounted?: { retryInMs: number },
): TaskRow {
  return store.writeTxn(() => {
    const before = ownedTask(store, identity);
    closeRun(store, identity, { outcome, error });
    if (!uncounted) return countFailure(store, before, outcome, { error }, failures);
    return requeueUncounted(store, before, outcome, { error }, uncounted.retryInMs);
  });
}
