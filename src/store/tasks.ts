import { Refused } from '../errors.js';
import { newTaskId } from '../ids.js';
import { commentsForTask } from './comments.js';
import type { Store } from './db.js';
import { appendEvent, eventsForTask } from './events.js';
import { childIds, insertLink, linksOf, parentIds } from './links.js';
import { getTaskRow, requireTaskRow, updateTask } from './rows.js';
import { batchParents, batchRefusal, checkCreate, checkEdit, createdStatus, newTaskRow, planEdit } from '../core/task-fields.js';
import { listLimit, listStatuses, orderBy, statusRankSql, type OrderKey } from '../core/reads.js';
import { runsForTask } from './runs.js';
import type { Task, TaskRow } from '../core/types.js';
import { TASK_COLUMNS } from '../core/sql.js';
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

/** SQLite's SQL for each key of a list's order (core/reads.ts): NOCASE folds ASCII letters only. */
const ORDER_KEY_SQL: Record<OrderKey['key'], string> = {
  status: statusRankSql('status'),
  priority: 'priority',
  created_at: 'created_at',
  updated_at: 'updated_at',
  title: 'title COLLATE NOCASE',
  id: 'id',
};

/** The WHERE clause and its parameters, and the ORDER BY (and LIMIT) that follows it. */
function listQuery(filter: ListFilter): { where: string; params: unknown[]; order: string } {
  const statuses = listStatuses(filter);
  const where = [`status IN (${statuses.map(() => '?').join(', ')})`];
  const params: unknown[] = [...statuses];
  if (filter.assignee !== undefined) {
    where.push('assignee = ?');
    params.push(filter.assignee);
  }
  const limit = listLimit(filter);
  return { where: where.join(' AND '), params, order: `ORDER BY ${orderBy(filter.sort, (key) => ORDER_KEY_SQL[key])}${limit === null ? '' : ` LIMIT ${limit}`}` };
}

export function listTasks(store: Store, filter: ListFilter = {}): Task[] {
  const { where, params, order } = listQuery(filter);
  return store.readTxn(() => {
    const rows = store.stmt(`SELECT * FROM tasks WHERE ${where} ${order}`).all(...params) as TaskRow[];
    const links = linksOf(store, rows.map((row) => row.id));
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
  const { sql, params } = listJsonQuery(filter);
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

/** The query behind listTasksJson: one row per task, its JSON as bytes (bench/cli.ts runs it bare, as a floor). */
export function listJsonQuery(filter: ListFilter = {}): { sql: string; params: unknown[] } {
  const { where, params, order } = listQuery(filter);
  return { sql: `SELECT CAST(${TASK_JSON} AS BLOB) FROM tasks t WHERE ${where} ${order}`, params };
}

const OPEN_ARRAY = Buffer.from('[\n');
const ROW_SEPARATOR = Buffer.from(',\n');
const CLOSE_ARRAY = Buffer.from('\n]');

// ---- create ----

/**
 * New task: ready, or todo while a parent is unfinished; `triage` and `status` choose otherwise.
 * An idempotency key returns the task that holds it while that task is not archived.
 */
export function createTask(store: Store, input: CreateInput): CreateResult {
  const checked = checkCreate(input);
  return store.writeTxn(() => {
    if (input.idempotencyKey !== undefined) {
      const existing = store
        .stmt("SELECT * FROM tasks WHERE idempotency_key = ? AND status <> 'archived'")
        .get(input.idempotencyKey) as TaskRow | undefined;
      if (existing) return { task: toTask(store, existing), created: false };
    }
    const parentRows = checked.parents.map((id) => requireTaskRow(store, id));
    const status = createdStatus(input, checked, parentRows);
    if (typeof status !== 'string') throw new Refused(status.refused);
    let id = newTaskId();
    while (getTaskRow(store, id)) id = newTaskId();
    const row = newTaskRow(input, checked, id, status, store.clock.now());
    const columns = Object.keys(row);
    store.stmt(`INSERT INTO tasks (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`).run(row);
    for (const parent of parentRows) insertLink(store, parent.id, id);
    appendEvent(store, id, 'created', { status, assignee: row.assignee, priority: row.priority, parents: checked.parents });
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
        const parents = batchParents(item, results);
        results.push(createTask(store, { ...item.input, parents }));
      } catch (err) {
        throw batchRefusal(err, item);
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
  const wanted = checkEdit(input);
  return store.writeTxn(() => {
    const before = requireTaskRow(store, id);
    const plan = planEdit(before, input, wanted);
    if ('refused' in plan) throw new Refused(plan.refused);
    const { changes, changed } = plan;
    if (Object.keys(changes).length === 0) return toTask(store, before);
    const after = updateTask(store, before, changes);
    if ('assignee' in changes) appendEvent(store, id, 'assigned', { from: before.assignee, to: after.assignee, source: 'user' });
    if (Object.keys(changed).length > 0) appendEvent(store, id, 'edited', { changes: changed });
    return toTask(store, after);
  });
}
