import { NotFound, Refused } from '../errors.js';
import { decideFailure, type FailurePolicy } from '../core/breaker.js';
import type { Ending } from '../core/ending.js';
import { endingOfExitAlone } from '../core/exit.js';
import {
  capRefusal,
  claimedFirst,
  claimRefusal,
  leaseMovedOnExtend,
  leaseMovedOnRelease,
  
  NO_CLAIM,
  notOwnerMessage,
  parentNotDone,
  releaseError,
  type RunIdentity,
} from '../core/run.js';
import type { RunOutcome, RunRow, Status, TaskRow } from '../core/types.js';
import type { ClaimCandidate, ClaimCaps, ClaimResult, CreateInput, CreateResult, ExitRecord, HeartbeatSource, Release, WorkerExit } from '../port/types.js';
import { markDone, sendToReview } from './lifecycle.js';
import { appendEvent, assignments, readyOrTodo, updateTask, type TaskChanges } from './rows.js';
import { createTask } from './tasks.js';
import { storableJson, type Tx } from './tx.js';
import { newClaimLock } from '../host.js';

/**
 * Claim, heartbeat and release on a PostgreSQL board: SQLite's (store/lease.ts), the same refusals,
 * events and answers. Every write made on a run's behalf carries its identity (task, run id, claim
 * lock) in its WHERE, and zero rows changed means refused with nothing written, not even an event.
 *
 * The hot paths (claim, heartbeat, extend) are one statement each, one round trip in autocommit: a
 * function of the schema (schema.ts: kanban_claim, kanban_heartbeat, kanban_extend) called by one
 * SELECT, its time the database's unless a test injects one (`tx.timeParam`). A refused one reads
 * again, in a statement of its own, to say why. The rest run in the port call's SERIALIZABLE
 * transaction, the task locked before its run, as every transition does.
 */

// ---- the claim ----

type ClaimAnswer =
  | { result: 'missing' }
  | { result: 'locked' | 'refused'; task: TaskRow }
  | { result: 'at_cap'; at_cap: 'board' | 'profile'; task: TaskRow }
  | { result: 'demoted'; task: TaskRow; parent: { id: string; status: Status } }
  | { result: 'claimed'; task: TaskRow; run: RunRow };

/** The answers that pass a candidate over: gone, held by another transaction, or not claimable. */
const PASSED_OVER: ReadonlySet<ClaimAnswer['result']> = new Set(['missing', 'locked', 'refused']);

/**
 * ready → running in one statement: opens a run and takes the lease, unless that would break a cap
 * (`caps`, counted exactly: see kanban_claim). If a parent is no longer finished, the task goes back
 * to todo instead, unless a person forced it ready (`promote --force`) since it last ran. A task
 * another transaction holds at that moment is not waited for: `it was claimed first`.
 */
export async function claimTask(tx: Tx, taskId: string, options: { profile: string | null; leaseMs: number; caps?: ClaimCaps }): Promise<ClaimResult> {
  const claimLock = newClaimLock();
  const caps = options.caps;
  const answer = (await tx.value<ClaimAnswer>('SELECT kanban_claim($1, $2, false, $3, $4, $5, $6, $7)', [
    taskId,
    options.profile,
    Math.round(options.leaseMs),
    claimLock,
    tx.timeParam,
    caps ? caps.board : null,
    caps?.profile ?? null,
  ]))!;
  if (answer.result === 'missing') throw new NotFound(`no such task: ${taskId}`);
  // Another transaction holds the task ('locked'): by what last committed, or else it is being claimed.
  if (PASSED_OVER.has(answer.result)) throw new Refused(claimRefusal((answer as { task: TaskRow }).task) ?? claimedFirst(taskId));
  return claimResult(answer, { taskId, ...options }, claimLock);
}

/** The first of `candidates` that can be claimed, claimed, in one statement (kanban_claim_first; port: RunLease.claimFirst). */
export async function claimFirst(tx: Tx, candidates: readonly ClaimCandidate[], options: { leaseMs: number }): Promise<ClaimResult | null> {
  if (candidates.length === 0) return null;
  const claimLock = newClaimLock();
  const answer = await tx.value<ClaimAnswer>('SELECT kanban_claim_first($1::text[], $2::text[], $3::boolean[], $4::integer[], $5::integer[], $6, $7, $8)', [
    candidates.map((c) => c.taskId),
    candidates.map((c) => c.profile),
    candidates.map((c) => c.assign === true),
    candidates.map((c) => c.caps?.board ?? null),
    candidates.map((c) => c.caps?.profile ?? null),
    Math.round(options.leaseMs),
    claimLock,
    tx.timeParam,
  ]);
  if (!answer || PASSED_OVER.has(answer.result)) return null;
  const candidate = candidates.find((c) => c.taskId === (answer as { task: TaskRow }).task.id)!;
  return claimResult(answer, candidate, claimLock);
}

/** A claim's answer that was not passed over, as the port says it. */
function claimResult(answer: ClaimAnswer, candidate: ClaimCandidate, claimLock: string): ClaimResult {
  switch (answer.result) {
    case 'at_cap':
      return { claimed: false, task: answer.task, ...capRefusal(answer.at_cap, candidate.caps!, candidate.profile) };
    case 'demoted':
      return { claimed: false, task: answer.task, reason: parentNotDone(answer.parent) };
    case 'claimed':
      return { claimed: true, task: answer.task, run: answer.run, identity: { taskId: candidate.taskId, runId: answer.run.id, claimLock } };
    default:
      throw new Error(`kanban_claim answered ${answer.result} for a claim not passed over`);
  }
}

// ---- fenced writes ----

/** The fence's parameters, $1 $2 $3, in every fenced statement here. */
const FENCE_TASK = "id = $1 AND status = 'running' AND current_run_id = $2 AND claim_lock = $3";
const FENCE_RUN = "id = $2 AND task_id = $1 AND claim_lock = $3 AND status = 'running'";

function fence(identity: RunIdentity): unknown[] {
  return [identity.taskId, identity.runId, identity.claimLock];
}

/** Writes `changes` to the task only while this run holds it. */
async function updateTaskFenced(tx: Tx, identity: RunIdentity, changes: TaskChanges): Promise<boolean> {
  const set = assignments(changes, 5);
  const sql = `UPDATE tasks SET ${set.sql}${set.sql ? ', ' : ''}updated_at = $4 WHERE ${FENCE_TASK}`;
  return (await tx.run(sql, [...fence(identity), tx.now, ...set.params])) > 0;
}

/** Writes `changes` to the run only while it is open and this identity's. */
async function updateRunFenced(tx: Tx, identity: RunIdentity, changes: Partial<RunRow>): Promise<boolean> {
  const set = assignments(changes, 4);
  return (await tx.run(`UPDATE task_runs SET ${set.sql} WHERE ${FENCE_RUN}`, [...fence(identity), ...set.params])) > 0;
}

/** The refusal for an identity that no longer owns its task, saying what happened instead (a plain read: no lock). */
async function notOwner(tx: Tx, identity: RunIdentity): Promise<Refused> {
  const task = await tx.row<Pick<TaskRow, 'status' | 'current_run_id'>>('SELECT status, current_run_id FROM tasks WHERE id = $1', [identity.taskId]);
  return new Refused(notOwnerMessage(identity, task));
}

/**
 * The task, if this run holds it (else refused). In a write it is locked (FOR NO KEY UPDATE, as an
 * UPDATE of it would) before anything touches the run: the lock order of every transition.
 */
async function ownedTask(tx: Tx, identity: RunIdentity): Promise<TaskRow> {
  const task = await tx.row<TaskRow>(`SELECT * FROM tasks WHERE ${FENCE_TASK}${tx.writing ? ' FOR NO KEY UPDATE' : ''}`, fence(identity));
  if (!task) throw await notOwner(tx, identity);
  return task;
}

/** `worker guard`: does this identity still own its task? Reads only. */
export async function checkOwnership(tx: Tx, identity: RunIdentity): Promise<TaskRow> {
  return ownedTask(tx, identity);
}

// ---- liveness ----

/**
 * The only liveness write, one statement (kanban_heartbeat): moves `claim_expires` to now + the run's
 * lease and `last_heartbeat_at` to now, on the task and on the run, with a `heartbeat` event.
 */
export async function heartbeat(tx: Tx, identity: RunIdentity, options: { note?: string | null; source?: HeartbeatSource } = {}): Promise<TaskRow> {
  const task = await tx.value<TaskRow | null>('SELECT kanban_heartbeat($1, $2, $3, $4, $5, $6)', [
    ...fence(identity),
    tx.timeParam,
    options.source ?? 'worker',
    options.note ? options.note : null,
  ]);
  if (!task) throw await notOwner(tx, identity);
  return task;
}

/** The supervisor records itself on the run, so the reaper can tell whether the run still has an owner. */
export async function attachSupervisor(tx: Tx, identity: RunIdentity, supervisorPid: number): Promise<void> {
  if (!(await updateRunFenced(tx, identity, { supervisor_pid: supervisorPid }))) throw await notOwner(tx, identity);
}

/** The worker process is running: its pid (the leader of its own process group) and workspace. */
export async function recordSpawn(tx: Tx, identity: RunIdentity, spawn: { workerPid: number; argv: readonly string[]; workspace: string }): Promise<void> {
  if (!(await updateTaskFenced(tx, identity, { worker_pid: spawn.workerPid, workspace_path: spawn.workspace }))) throw await notOwner(tx, identity);
  await updateRunFenced(tx, identity, { worker_pid: spawn.workerPid });
  await appendEvent(tx, identity.taskId, 'spawned', { worker_pid: spawn.workerPid, argv: spawn.argv, workspace: spawn.workspace }, identity.runId);
}

// ---- the worker's own transitions ----

async function closeRun(tx: Tx, identity: RunIdentity, ending: Partial<RunRow> & { outcome: RunOutcome }): Promise<void> {
  if (!(await updateRunFenced(tx, identity, { status: 'ended', ended_at: tx.now, ...ending }))) throw await notOwner(tx, identity);
}

/** `worker complete`: done, the run closed `completed`. */
export async function completeRun(tx: Tx, identity: RunIdentity, summary: string | null = null): Promise<TaskRow> {
  const before = await ownedTask(tx, identity);
  await closeRun(tx, identity, { outcome: 'completed', summary });
  return markDone(tx, before, summary, 'worker');
}

/** `worker block`: a sticky block (only unblock releases it), the run closed `blocked`. */
export async function blockRun(tx: Tx, identity: RunIdentity, reason: string): Promise<TaskRow> {
  const before = await ownedTask(tx, identity);
  await closeRun(tx, identity, { outcome: 'blocked', summary: reason });
  const after = await updateTask(tx, before, { ...NO_CLAIM, status: 'blocked', status_reason: reason });
  await appendEvent(tx, identity.taskId, 'blocked', { from: 'running', reason, source: 'worker', sticky: true }, identity.runId);
  return after;
}

/** `worker review`: the work goes to the review lane (a person approves or requests changes), the run closed `review`. */
export async function reviewRun(tx: Tx, identity: RunIdentity, summary: string | null = null): Promise<TaskRow> {
  const before = await ownedTask(tx, identity);
  await closeRun(tx, identity, { outcome: 'review', summary });
  return sendToReview(tx, before, summary, 'worker');
}

/**
 * `worker create`: a follow-up task, a child of the run's task unless other parents are named, made
 * only while the run holds its task (event `follow_up` on the run's task names it).
 */
export async function createFromRun(tx: Tx, identity: RunIdentity, input: CreateInput): Promise<CreateResult> {
  await ownedTask(tx, identity);
  const parents = input.parents && input.parents.length > 0 ? input.parents : [identity.taskId];
  const result = await createTask(tx, { ...input, parents });
  if (result.created) await appendEvent(tx, identity.taskId, 'follow_up', { task_id: result.task.id, title: result.task.title }, identity.runId);
  return result;
}

/** `worker comment`: a comment from the worker, refused once the run no longer holds the task. */
export async function commentFromRun(tx: Tx, identity: RunIdentity, text: string): Promise<void> {
  const inserted = await tx.value<number>(
    `INSERT INTO task_comments (task_id, run_id, author, body, created_at)
     SELECT $1, $2, 'worker', $4::text, $5::bigint FROM tasks WHERE ${FENCE_TASK} RETURNING id`,
    [...fence(identity), text, tx.now],
  );
  if (inserted === undefined) throw await notOwner(tx, identity);
  await appendEvent(tx, identity.taskId, 'commented', { comment_id: inserted, author: 'worker' }, identity.runId);
}

// ---- how a run ends ----

/**
 * The one function that counts a failure, for every counted outcome: consecutive_failures + 1, the
 * outcome's event, and at the limit (the task's max_retries, else the board's) blocked with `gave_up`
 * instead of back to ready. The claim is dropped either way.
 */
async function countFailure(tx: Tx, before: TaskRow, outcome: RunOutcome, details: Record<string, unknown>, policy: FailurePolicy): Promise<TaskRow> {
  const { failures, limit, limitSource, gaveUp, reason } = decideFailure(before, outcome, policy);
  const runId = before.current_run_id;
  await appendEvent(tx, before.id, outcome, { ...details, failures, limit }, runId);
  if (!gaveUp) {
    return updateTask(tx, before, { ...NO_CLAIM, status: await readyOrTodo(tx, before.id), consecutive_failures: failures });
  }
  const after = await updateTask(tx, before, { ...NO_CLAIM, status: 'blocked', status_reason: reason, consecutive_failures: failures });
  await appendEvent(tx, before.id, 'gave_up', { failures, limit, limit_source: limitSource, trigger: outcome }, runId);
  return after;
}

/**
 * Records how the worker ended, in one fenced transition, storing its exit code and signal on the run.
 * A run the worker already closed (complete, block, review) only gets its exit code. Otherwise the
 * ending (core/ending.ts) decides: done or review with the agent's answer; rate_limited back to
 * ready with a cooldown, counter untouched; blocked (sticky) when credentials were refused; or a
 * counted failure (crashed, hung, timed_out, protocol_violation).
 */
export async function recordExit(tx: Tx, identity: RunIdentity, exit: WorkerExit): Promise<ExitRecord> {
  const run = await tx.row<RunRow>('SELECT * FROM task_runs WHERE id = $2 AND task_id = $1 AND claim_lock = $3', fence(identity));
  if (!run) throw await notOwner(tx, identity);
  const how = { exit_code: exit.exitCode, signal: exit.signal };
  if (run.status === 'ended') {
    // Only the closed run is written: the task, another run's by now, is read and not locked.
    await tx.run('UPDATE task_runs SET exit_code = $4, signal = $5 WHERE id = $2 AND task_id = $1 AND claim_lock = $3 AND exit_code IS NULL AND signal IS NULL', [
      ...fence(identity),
      exit.exitCode,
      exit.signal,
    ]);
    return { outcome: run.outcome!, alreadyClosed: true, task: await tx.row<TaskRow>('SELECT * FROM tasks WHERE id = $1', [identity.taskId]) };
  }
  const before = await ownedTask(tx, identity);
  const ending = exit.ending ?? endingOfExitAlone(exit, tx.now);
  await closeRun(tx, identity, { outcome: ending.outcome, ...how, error: ending.error, summary: ending.summary });
  return { outcome: ending.outcome, alreadyClosed: false, task: await applyEnding(tx, before, ending, how, exit.failures, exit.machineFault) };
}

async function applyEnding(tx: Tx, before: TaskRow, ending: Ending, how: Record<string, unknown>, failures: FailurePolicy, machineFault?: WorkerExit['machineFault']): Promise<TaskRow> {
  const runId = before.current_run_id;
  switch (ending.outcome) {
    case 'completed':
      return markDone(tx, before, ending.summary, 'clean_exit');
    case 'review':
      return sendToReview(tx, before, ending.summary, 'clean_exit');
    case 'rate_limited': {
      const cooldownUntil = tx.now + (ending.cooldownMs ?? 0);
      const task = await updateTask(tx, before, { ...NO_CLAIM, status: await readyOrTodo(tx, before.id) });
      await appendEvent(tx, before.id, 'rate_limited', { ...how, cooldown_until: cooldownUntil, error: ending.error }, runId);
      return task;
    }
    case 'blocked': {
      const reason = ending.blockReason ?? ending.error ?? 'blocked';
      const task = await updateTask(tx, before, { ...NO_CLAIM, status: 'blocked', status_reason: reason });
      await appendEvent(tx, before.id, 'blocked', { from: 'running', reason, source: 'supervisor', sticky: true, ...how }, runId);
      return task;
    }
    default:
      if (machineFault) return requeueUncounted(tx, before, ending.outcome, { ...how, error: ending.error, fault: machineFault.fault }, machineFault.retryInMs);
      return countFailure(tx, before, ending.outcome, { ...how, error: ending.error }, failures);
  }
}

/**
 * A failed run that was not the task's fault (the config's or the machine's): back to ready with the
 * counter untouched, and no new run for `retryInMs` (the event's `cooldown_until`), so it does not spin.
 */
async function requeueUncounted(tx: Tx, before: TaskRow, outcome: RunOutcome, details: Record<string, unknown>, retryInMs: number): Promise<TaskRow> {
  const after = await updateTask(tx, before, { ...NO_CLAIM, status: await readyOrTodo(tx, before.id) });
  await appendEvent(tx, before.id, outcome, { ...details, counted: false, cooldown_until: tx.now + retryInMs }, before.current_run_id);
  return after;
}

/**
 * Takes a running task back from its run: the run closed with the outcome, the task back to ready
 * (todo while a parent is unfinished), an event of that kind; counted only when `counted` says so.
 * `expectedClaimExpires` makes it a compare-and-set on the lease the caller judged.
 */
export async function releaseRun(tx: Tx, identity: RunIdentity, release: Release): Promise<TaskRow> {
  const before = await ownedTask(tx, identity);
  if (release.expectedClaimExpires !== undefined && before.claim_expires !== release.expectedClaimExpires) {
    throw new Refused(leaseMovedOnRelease(identity));
  }
  await closeRun(tx, identity, { outcome: release.outcome, error: releaseError(release) });
  if (release.counted) return countFailure(tx, before, release.outcome, release.payload, release.counted);
  const after = await updateTask(tx, before, { ...NO_CLAIM, status: await readyOrTodo(tx, before.id) });
  await appendEvent(tx, identity.taskId, release.outcome, release.payload, identity.runId);
  return after;
}

type ExtendAnswer = { result: 'not_owner' | 'moved' } | { result: 'extended'; task: TaskRow };

/** The dispatcher extends the lease of a run whose supervisor is alive and recently heard from: one statement (kanban_extend). */
export async function extendClaim(tx: Tx, identity: RunIdentity, expectedClaimExpires: number | null, payload: Record<string, unknown>): Promise<TaskRow> {
  const answer = (await tx.value<ExtendAnswer>('SELECT kanban_extend($1, $2, $3, $4, $5::jsonb, $6)', [
    ...fence(identity),
    expectedClaimExpires,
    storableJson(payload),
    tx.timeParam,
  ]))!;
  if (answer.result === 'extended') return answer.task;
  throw answer.result === 'moved' ? new Refused(leaseMovedOnExtend(identity)) : await notOwner(tx, identity);
}

/**
 * A run that ended without a recorded exit: `crashed` when its supervisor died first, `spawn_failed`
 * when the worker could not be started. Counted, unless `uncounted` says the fault was the config's
 * or the machine's: then back to ready, with no respawn for `retryInMs` so a broken config does not spin.
 */
export async function recordFailedRun(
  tx: Tx,
  identity: RunIdentity,
  outcome: 'crashed' | 'spawn_failed',
  error: string,
  failures: FailurePolicy,
  uncounted?: { retryInMs: number },
): Promise<TaskRow> {
  const before = await ownedTask(tx, identity);
  await closeRun(tx, identity, { outcome, error });
  if (!uncounted) return countFailure(tx, before, outcome, { error }, failures);
  return requeueUncounted(tx, before, outcome, { error }, uncounted.retryInMs);
}

type RenewAnswer = { result: 'not_owner' } | { result: 'renewed' | 'silent'; task: TaskRow };

/** The run's supervisor renews its own lease while the run was heard from within `maxStaleMs`: one statement (kanban_renew). */
export async function renewLease(tx: Tx, identity: RunIdentity, options: { maxStaleMs: number }): Promise<{ renewed: boolean; task: TaskRow }> {
  const answer = (await tx.value<RenewAnswer>('SELECT kanban_renew($1, $2, $3, $4, $5)', [...fence(identity), Math.round(options.maxStaleMs), tx.timeParam]))!;
  if (answer.result === 'not_owner') throw await notOwner(tx, identity);
  return { renewed: answer.result === 'renewed', task: answer.task };
}
