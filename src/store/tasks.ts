import { InvalidInput, NotFound, Refused } from '../errors.js';
import { newTaskId } from '../ids.js';
import { commentsForTask } from './comments.js';
import type { Store } from './db.js';
import { appendEvent, eventsForTask } from './events.js';
import { allLinks, childIds, insertLink, parentIds } from './links.js';
import { getTaskRow, requireTaskRow, updateTask, type TaskChanges } from './rows.js';
import { runsForTask } from './runs.js';
import { isFinished, STATUSES, type Status, type Task, type TaskRow, type SortKey } from '../core/types.js';
import { TASK_COLUMNS } from './sql.js';
import { readyOrTodo } from '../core/transitions.js';
import type { BatchItem, CreateInput, CreateResult, EditInput, ListFilter, TaskDetail } from '../port/types.js';

export function toTask(store: Store, row: TaskRow): Task {
  return { ...row, parents: parentIds(store, row.id), children: childIds(store, row.id) };
}

export function getTask(store: Store, id: string): Task {
  return store.readTxn(() => toTask(store, requireTaskRow(store, id)));
}

export function countTasks(store: Store): number {
  return store.stmt('SELECT count(*) FROM tasks').pluck().get() as number;
}

export function showTask(store: Store, id: string): TaskDetail {
  return store.readTxn(() => ({
    task: toTask(store, requireTaskRow(store, id)),
    runs: runsForTask(store, id),
    events: eventsForTask(store, id),
    comments: commentsForTask(store, id),
  }));
}

const BOARD_ORDER = `CASE status ${STATUSES.map((s, i) => `WHEN '${s}' THEN ${i}`).join(' ')} END`;
const ORDER_BY: Record<SortKey, string> = {
  status: `${BOARD_ORDER}, priority DESC, created_at, id`,
  priority: 'priority DESC, created_at, id',
  created: 'created_at, id',
  updated: 'updated_at DESC, id',
  title: 'title COLLATE NOCASE, id',
  id: 'id',
};

/** The WHERE clause and its parameters, and the ORDER BY (and LIMIT) that follows it. */
function listQuery(filter: ListFilter): { where: string; params: unknown[]; order: string } {
  const statuses = filter.statuses?.length ? filter.statuses : STATUSES.filter((s) => s !== 'archived');
  const where = [`status IN (${statuses.map(() => '?').join(', ')})`];
  const params: unknown[] = [...statuses];
  if (filter.assignee !== undefined) {
    where.push('assignee = ?');
    params.push(filter.assignee);
  }
  const limit = filter.limit !== undefined ? ` LIMIT ${checkInteger(filter.limit, 'limit', 1)}` : '';
  return { where: where.join(' AND '), params, order: `ORDER BY ${ORDER_BY[filter.sort ?? 'status']}${limit}` };
}

export function listTasks(store: Store, filter: ListFilter = {}): Task[] {
  const { where, params, order } = listQuery(filter);
  return store.readTxn(() => {
    const rows = store.stmt(`SELECT * FROM tasks WHERE ${where} ${order}`).all(...params) as TaskRow[];
    const links = allLinks(store);
    return rows.map((row) => ({ ...row, parents: links.parents.get(row.id) ?? [], children: links.children.get(row.id) ?? [] }));
  });
}

const TASK_JSON = `json_object(${TASK_COLUMNS.map((c) => `'${c}', t.${c}`).join(', ')},
  'parents', (SELECT json_group_array(parent_id) FROM (SELECT parent_id FROM task_links WHERE child_id = t.id ORDER BY parent_id)),
  'children', (SELECT json_group_array(child_id) FROM (SELECT child_id FROM task_links WHERE parent_id = t.id ORDER BY child_id)))`;

/**
 * The same tasks as listTasks, as the bytes of a JSON array (one task per line) built by SQLite.
 * Rows come back as BLOBs, so on a large board no JS objects or strings are made: several times
 * faster than building objects and stringifying them.
 */
export function listTasksJson(store: Store, filter: ListFilter = {}): Buffer {
  const { where, params, order } = listQuery(filter);
  const sql = `SELECT CAST(${TASK_JSON} AS BLOB) FROM tasks t WHERE ${where} ${order}`;
  const rows = store.stmt(sql).pluck().all(...params) as Buffer[];
  if (rows.length === 0) return Buffer.from('[]');
  const parts: Buffer[] = [OPEN_ARRAY];
  for (const [i, row] of rows.entries()) {
    if (i > 0) parts.push(ROW_SEPARATOR);
    parts.push(row);
  }
  parts.push(CLOSE_ARRAY);
  return Buffer.concat(parts);
}

const OPEN_ARRAY = Buffer.from('[\n');
const ROW_SEPARATOR = Buffer.from(',\n');
const CLOSE_ARRAY = Buffer.from('\n]');

// ---- input checks shared by create and edit ----

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

function checkInteger(value: number, what: string, min: number): number {
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

// ---- create ----

/**
 * New task: ready, or todo while a parent is unfinished; `triage` and `status` choose otherwise.
 * An idempotency key returns the task that holds it while that task is not archived.
 */
export function createTask(store: Store, input: CreateInput): CreateResult {
  const title = checkTitle(input.title);
  const assignee = checkAssignee(input.assignee ?? null);
  const priority = checkPriority(input.priority ?? 0);
  const maxRetries = checkMaxRetries(input.maxRetries ?? null);
  const maxRuntime = checkMaxRuntime(input.maxRuntimeSeconds ?? null);
  if (input.triage && input.status) throw new InvalidInput('choose either triage or a status, not both');
  if (input.idempotencyKey !== undefined && input.idempotencyKey.trim() === '') throw new InvalidInput('an idempotency key cannot be empty');
  const parents = [...new Set(input.parents ?? [])];

  return store.writeTxn(() => {
    if (input.idempotencyKey !== undefined) {
      const existing = store
        .stmt("SELECT * FROM tasks WHERE idempotency_key = ? AND status <> 'archived'")
        .get(input.idempotencyKey) as TaskRow | undefined;
      if (existing) return { task: toTask(store, existing), created: false };
    }
    const parentRows = parents.map((id) => requireTaskRow(store, id));
    const unfinished = parentRows.filter((p) => !isFinished(p.status));
    if (input.status === 'ready' && unfinished.length > 0) {
      throw new Refused(`cannot create ${title.trim()} as ready: parent ${unfinished[0]!.id} is not done (${unfinished[0]!.status})`);
    }
    const status: Status = input.triage ? 'triage' : (input.status ?? readyOrTodo(unfinished.length));

    let id = newTaskId();
    while (getTaskRow(store, id)) id = newTaskId();
    const now = store.clock.now();
    const row: TaskRow = {
      id,
      title,
      body: input.body ?? '',
      status,
      assignee,
      priority,
      claim_lock: null,
      claim_expires: null,
      worker_pid: null,
      current_run_id: null,
      last_heartbeat_at: null,
      consecutive_failures: 0,
      max_retries: maxRetries,
      max_runtime_seconds: maxRuntime,
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
    const columns = Object.keys(row);
    store.stmt(`INSERT INTO tasks (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`).run(row);
    for (const parent of parentRows) insertLink(store, parent.id, id);
    appendEvent(store, id, 'created', { status, assignee, priority, parents });
    if (status === 'blocked') appendEvent(store, id, 'blocked', { from: null, reason: null, source: 'user', sticky: true });
    return { task: toTask(store, row), created: true };
  });
}

// ---- create many ----

/**
 * Creates every item in one transaction, each as `createTask` does: all of them, or none. The first
 * item refused (bad input, a parent that does not exist or is unfinished where `ready` was asked) is
 * bad input (exit 2) named by its label. `dryRun` does it all, then undoes it: the ids it returns
 * are not kept.
 */
export function createTasks(store: Store, items: readonly BatchItem[], options: { dryRun?: boolean } = {}): CreateResult[] {
  const createAll = (): CreateResult[] => {
    const results: CreateResult[] = [];
    for (const item of items) {
      try {
        const earlier = (item.parentItems ?? []).map((index) => {
          if (!(index >= 0 && index < results.length)) throw new InvalidInput(`a parent must come earlier in the batch (item ${index + 1})`);
          return results[index]!.task.id;
        });
        const parents = [...(item.input.parents ?? []), ...earlier];
        results.push(createTask(store, { ...item.input, parents }));
      } catch (err) {
        if (err instanceof InvalidInput || err instanceof Refused || err instanceof NotFound) throw new InvalidInput(`${item.label}: ${err.message}`);
        throw err;
      }
    }
    return results;
  };
  if (!options.dryRun) return store.writeTxn(createAll);
  // Undone by a savepoint, not by failing the transaction: it holds inside a caller's transaction too.
  return store.writeTxn(() => {
    store.db.exec('SAVEPOINT dry_run');
    try {
      return createAll();
    } finally {
      store.db.exec('ROLLBACK TO dry_run');
      store.db.exec('RELEASE dry_run');
    }
  });
}

// ---- edit ----

/**
 * Changes fields. An assignee change appends `assigned`; the other changed fields one `edited` event
 * listing each field's old and new value. Values equal to the current ones change nothing. A running
 * task keeps its assignee: its run counts against that profile's max_in_progress, and a new assignee
 * would free the slot while the run goes on.
 */
export function editTask(store: Store, id: string, input: EditInput): Task {
  const wanted: TaskChanges = {};
  if (input.title !== undefined) wanted.title = checkTitle(input.title);
  if (input.body !== undefined) wanted.body = input.body;
  if (input.assignee !== undefined) wanted.assignee = checkAssignee(input.assignee);
  if (input.priority !== undefined) wanted.priority = checkPriority(input.priority);
  if (input.maxRetries !== undefined) wanted.max_retries = checkMaxRetries(input.maxRetries);
  if (input.maxRuntimeSeconds !== undefined) wanted.max_runtime_seconds = checkMaxRuntime(input.maxRuntimeSeconds);
  if (input.resetFailures) wanted.consecutive_failures = 0;
  if (input.clearClaim) Object.assign(wanted, { claim_lock: null, claim_expires: null, worker_pid: null, current_run_id: null });

  return store.writeTxn(() => {
    const before = requireTaskRow(store, id);
    if (input.clearClaim && before.status === 'running') {
      throw new Refused(`cannot clear the claim of ${id}: it is running (reclaim it instead)`);
    }
    if (wanted.assignee !== undefined && wanted.assignee !== before.assignee && before.status === 'running') {
      throw new Refused(`cannot reassign ${id}: it is running as ${before.assignee ?? 'nobody'} (reclaim or block it first)`);
    }
    const changes: TaskChanges = {};
    const changed: Record<string, { from: unknown; to: unknown }> = {};
    for (const [column, value] of Object.entries(wanted) as Array<[keyof TaskChanges, unknown]>) {
      if (before[column] === value) continue;
      (changes as Record<string, unknown>)[column] = value;
      if (column !== 'assignee') changed[column] = { from: before[column], to: value };
    }
    if (Object.keys(changes).length === 0) return toTask(store, before);
    const after = updateTask(store, before, changes);
    if ('assignee' in changes) appendEvent(store, id, 'assigned', { from: before.assignee, to: after.assignee, source: 'user' });
    if (Object.keys(changed).length > 0) appendEvent(store, id, 'edited', { changes: changed });
    return toTask(store, after);
  });
}
