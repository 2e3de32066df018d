import { InvalidInput, NotFound, Refused } from '../errors.js';
import { isFinished, type Status, type TaskRow } from './types.js';
import { readyOrTodo } from './transitions.js';
import type { BatchItem, CreateInput, CreateResult, EditInput } from '../port/types.js';

/**
 * A task's fields as people give them, checked, and the rows create and edit make of them: pure, so
 * every backend creates and edits by the same rules.
 */

const ASSIGNEE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function checkTitle(title: string): string {
  if (title.trim() === '') throw new InvalidInput('a task needs a title');
  return title;
}

function checkAssignee(assignee: string | null): string | null {
  if (assignee !== null && !ASSIGNEE.test(assignee)) {
    throw new InvalidInput(`invalid assignee '${assignee}': a profile name of letters, digits, _ . and - (at most 64)`);
  }
  return assignee;
}

export function checkInteger(value: number, what: string, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) throw new InvalidInput(`invalid ${what} '${value}': expected a whole number ≥ ${min}`);
  return value;
}

function checkPriority(value: number): number {
  return checkInteger(value, 'priority', Number.MIN_SAFE_INTEGER);
}

function checkMaxRetries(value: number | null): number | null {
  return value === null ? null : checkInteger(value, 'max retries', 1);
}

function checkMaxRuntime(value: number | null): number | null {
  if (value !== null && !(Number.isFinite(value) && value > 0)) throw new InvalidInput(`invalid max runtime '${value}': expected a duration above 0`);
  return value;
}

/** A create's input, checked before anything is read: the new row but for its id, status and time. */
export interface CheckedCreate {
  title: string;
  assignee: string | null;
  priority: number;
  maxRetries: number | null;
  maxRuntime: number | null;
  /** Each parent once, in the order given. */
  parents: string[];
}

export function checkCreate(input: CreateInput): CheckedCreate {
  const checked = {
    title: checkTitle(input.title),
    assignee: checkAssignee(input.assignee ?? null),
    priority: checkPriority(input.priority ?? 0),
    maxRetries: checkMaxRetries(input.maxRetries ?? null),
    maxRuntime: checkMaxRuntime(input.maxRuntimeSeconds ?? null),
    parents: [...new Set(input.parents ?? [])],
  };
  if (input.triage && input.status) throw new InvalidInput('choose either triage or a status, not both');
  if (input.idempotencyKey !== undefined && input.idempotencyKey.trim() === '') throw new InvalidInput('an idempotency key cannot be empty');
  return checked;
}

/**
 * The new task's status, given its parents' rows: ready, or todo while a parent is unfinished;
 * `triage` and `status` choose otherwise. Refused (a message) when `ready` was asked for with a
 * parent unfinished.
 */
export function createdStatus(input: CreateInput, checked: CheckedCreate, parentRows: readonly TaskRow[]): Status | { refused: string } {
  const unfinished = parentRows.filter((p) => !isFinished(p.status));
  if (input.status === 'ready' && unfinished.length > 0) {
    return { refused: `cannot create ${checked.title.trim()} as ready: parent ${unfinished[0]!.id} is not done (${unfinished[0]!.status})` };
  }
  return input.triage ? 'triage' : (input.status ?? readyOrTodo(unfinished.length));
}

/** The new task's row. */
export function newTaskRow(input: CreateInput, checked: CheckedCreate, id: string, status: Status, now: number): TaskRow {
  return {
    id,
    title: checked.title,
    body: input.body ?? '',
    status,
    assignee: checked.assignee,
    priority: checked.priority,
    claim_lock: null,
    claim_expires: null,
    worker_pid: null,
    current_run_id: null,
    last_heartbeat_at: null,
    consecutive_failures: 0,
    max_retries: checked.maxRetries,
    max_runtime_seconds: checked.maxRuntime,
    scheduled_until: null,
    status_reason: null,
    summary: null,
    workspace_kind: input.workspace?.kind ?? 'scratch',
    workspace_path: input.workspace?.path ?? null,
    idempotency_key: input.idempotencyKey ?? null,
    created_at: now,
    updated_at: now,
    started_at: null,
    completed_at: null,
  };
}

export type TaskChanges = Partial<Omit<TaskRow, 'id' | 'created_at' | 'updated_at'>>;

/** An edit's input, checked: the columns it would set (before comparing with the task). */
export function checkEdit(input: EditInput): TaskChanges {
  const wanted: TaskChanges = {};
  if (input.title !== undefined) wanted.title = checkTitle(input.title);
  if (input.body !== undefined) wanted.body = input.body;
  if (input.assignee !== undefined) wanted.assignee = checkAssignee(input.assignee);
  if (input.priority !== undefined) wanted.priority = checkPriority(input.priority);
  if (input.maxRetries !== undefined) wanted.max_retries = checkMaxRetries(input.maxRetries);
  if (input.maxRuntimeSeconds !== undefined) wanted.max_runtime_seconds = checkMaxRuntime(input.maxRuntimeSeconds);
  if (input.resetFailures) wanted.consecutive_failures = 0;
  if (input.clearClaim) Object.assign(wanted, { claim_lock: null, claim_expires: null, worker_pid: null, current_run_id: null });
  return wanted;
}

/**
 * What an edit does to `before`: refused (a message) for a running task's claim or assignee; else
 * the columns that change and, for the `edited` event, each changed field's old and new value (an
 * assignee change is its own `assigned` event). Values equal to the current ones change nothing.
 * A running task keeps its assignee: its run counts against that profile's max_in_progress, and a
 * new assignee would free the slot while the run goes on.
 */
export function planEdit(before: TaskRow, input: EditInput, wanted: TaskChanges): { refused: string } | { changes: TaskChanges; changed: Record<string, { from: unknown; to: unknown }> } {
  if (input.clearClaim && before.status === 'running') return { refused: `cannot clear the claim of ${before.id}: it is running (reclaim it instead)` };
  if (wanted.assignee !== undefined && wanted.assignee !== before.assignee && before.status === 'running') {
    return { refused: `cannot reassign ${before.id}: it is running as ${before.assignee ?? 'nobody'} (reclaim or block it first)` };
  }
  const changes: TaskChanges = {};
  const changed: Record<string, { from: unknown; to: unknown }> = {};
  for (const [column, value] of Object.entries(wanted) as Array<[keyof TaskChanges, unknown]>) {
    if (before[column] === value) continue;
    (changes as Record<string, unknown>)[column] = value;
    if (column !== 'assignee') changed[column] = { from: before[column], to: value };
  }
  return { changes, changed };
}

/** A batch item's parents: those it names, and the earlier items it points at (created already, in `results`). */
export function batchParents(item: BatchItem, results: readonly CreateResult[]): string[] {
  const earlier = (item.parentItems ?? []).map((index) => {
    if (!(index >= 0 && index < results.length)) throw new InvalidInput(`a parent must come earlier in the batch (item ${index + 1})`);
    return results[index]!.task.id;
  });
  return [...(item.input.parents ?? []), ...earlier];
}

/** A batch item refused (bad input, a missing or unfinished parent): bad input named by its label; anything else as it is. */
export function batchRefusal(err: unknown, item: BatchItem): unknown {
  return err instanceof InvalidInput || err instanceof Refused || err instanceof NotFound ? new InvalidInput(`${item.label}: ${err.message}`) : err;
}
