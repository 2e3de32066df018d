import type { Task } from '../core/types.js';
import type { BatchItem, CreateInput, CreateResult, EditInput, ListFilter, TaskDetail } from '../port/types.js';
import { Refused } from '../errors.js';
import { newTaskId } from '../ids.js';
import { batchParents, batchRefusal, checkCreate, checkEdit, createdStatus, newTaskRow, planEdit } from '../core/task-fields.js';
import { listLimit, listStatuses, orderBy, statusRankSql, type OrderKey } from '../core/reads.js';
import { TASK_COLUMNS } from '../core/sql.js';
import type { TaskRow } from '../core/types.js';
import { commentsForTask } from './comments.js';
import { eventsForTask } from './events.js';
import { appendEvent, getTaskRow, insertLink, requireTaskRow, toTask, updateTask } from './rows.js';
import { runsForTask } from './runs.js';
import type { Tx } from './tx.js';

export async function getTask(tx: Tx, id: string): Promise<Task> {
  return toTask(tx, await requireTaskRow(tx, id));
}
export async function countTasks(tx: Tx): Promise<number> {
  return (await tx.value<number>('SELECT count(*) FROM tasks'))!;
}

/** A task with its runs, events and comments, in the port call's one snapshot. */
export async function showTask(tx: Tx, id: string): Promise<TaskDetail> {
  return {
    task: await getTask(tx, id),
    runs: await runsForTask(tx, id),
    events: await eventsForTask(tx, id),
    comments: await commentsForTask(tx, id),
  };
}

/**
 * PostgreSQL's SQL for each key of a list's order (core/reads.ts), in SQLite's order whatever the
 * database's collation: text compared as bytes (`COLLATE "C"`), and the title's case folded for ASCII
 * letters only, as NOCASE does (lower() under the C collation folds nothing else).
 */
const ORDER_KEY_SQL: Record<OrderKey['key'], string> = {
  status: statusRankSql('t.status'),
  priority: 't.priority',
  created_at: 't.created_at',
  updated_at: 't.updated_at',
  title: 'lower(t.title COLLATE "C")',
  id: 't.id COLLATE "C"',
};

/** A task's parents and children (`t`'s), each in id order, as arrays of ids. */
const LINK_ARRAYS = `ARRAY(SELECT l.parent_id FROM task_links l WHERE l.child_id = t.id ORDER BY l.parent_id COLLATE "C") AS parents,
  ARRAY(SELECT l.child_id FROM task_links l WHERE l.parent_id = t.id ORDER BY l.child_id COLLATE "C") AS children`;

/** The WHERE clause on `tasks t` and its parameters, and the ORDER BY (and LIMIT) that follows it. */
function listQuery(filter: ListFilter): { where: string; params: unknown[]; order: string } {
  const params: unknown[] = [[...listStatuses(filter)]];
  const where = ['t.status = ANY($1::text[])'];
  if (filter.assignee !== undefined) where.push(`t.assignee = $${params.push(filter.assignee)}`);
  const limit = listLimit(filter);
  return { where: where.join(' AND '), params, order: `ORDER BY ${orderBy(filter.sort, (key) => ORDER_KEY_SQL[key])}${limit === null ? '' : ` LIMIT $${params.push(limit)}`}` };
}

export async function listTasks(tx: Tx, filter: ListFilter = {}): Promise<Task[]> {
  const { where, params, order } = listQuery(filter);
  return tx.rows<Task>(`SELECT t.*, ${LINK_ARRAYS} FROM tasks t WHERE ${where} ${order}`, params);
}

/** A task as one line of JSON: its columns in table order, then its parents and children (row_to_json writes it compact, as SQLite's json_object does). */
const TASK_JSON = `row_to_json(j)::text FROM tasks t CROSS JOIN LATERAL (SELECT ${TASK_COLUMNS.map((c) => `t.${c}`).join(', ')}, ${LINK_ARRAYS}) j`;

/**
 * The same tasks as listTasks, as the bytes of a JSON array, one task a line (`[]` when none), each
 * line built by PostgreSQL: no row objects are made here. Times (bigint) are JSON numbers.
 */
export async function listTasksJson(tx: Tx, filter: ListFilter = {}): Promise<Buffer> {
  const { where, params, order } = listQuery(filter);
  const lines = await tx.column<string>(`SELECT ${TASK_JSON} WHERE ${where} ${order}`, params);
  return Buffer.from(lines.length === 0 ? '[]' : `[\n${lines.join(',\n')}\n]`);
}

/**
 * New task: ready, or todo while a parent is unfinished; `triage` and `status` choose otherwise
 * (core/task-fields.ts). An idempotency key returns the task that holds it while that task is not
 * archived (two hosts creating with one key at once: SERIALIZABLE fails one, which runs again and finds the other's).
 */
export async function createTask(tx: Tx, input: CreateInput): Promise<CreateResult> {
  const checked = checkCreate(input);
  if (input.idempotencyKey !== undefined) {
    const existing = await tx.row<TaskRow>("SELECT * FROM tasks WHERE idempotency_key = $1 AND status <> 'archived'", [input.idempotencyKey]);
    if (existing) return { task: await toTask(tx, existing), created: false };
  }
  const parentRows: TaskRow[] = [];
  for (const id of checked.parents) parentRows.push(await requireTaskRow(tx, id));
  const status = createdStatus(input, checked, parentRows);
  if (typeof status !== 'string') throw new Refused(status.refused);
  let id = newTaskId();
  while (await getTaskRow(tx, id)) id = newTaskId();
  const row = newTaskRow(input, checked, id, status, tx.now);
  const columns = Object.keys(row);
  await tx.run(`INSERT INTO tasks (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`, Object.values(row));
  for (const parent of parentRows) await insertLink(tx, parent.id, id);
  await appendEvent(tx, id, 'created', { status, assignee: row.assignee, priority: row.priority, parents: checked.parents });
  if (status === 'blocked') await appendEvent(tx, id, 'blocked', { from: null, reason: null, source: 'user', sticky: true });
  return { task: await toTask(tx, row), created: true };
}

/**
 * Creates every item, each as `createTask` does: all of them, or none (the port call is one
 * transaction). The first item refused (bad input, a parent that does not exist or is unfinished
 * where `ready` was asked) is bad input (exit 2) named by its label. `dryRun` does it all, then
 * undoes it with a savepoint: the ids it returns are not kept.
 */
export async function createTasks(tx: Tx, items: readonly BatchItem[], options: { dryRun?: boolean } = {}): Promise<CreateResult[]> {
  const createAll = async (): Promise<CreateResult[]> => {
    const results: CreateResult[] = [];
    for (const item of items) {
      try {
        const parents = batchParents(item, results);
        results.push(await createTask(tx, { ...item.input, parents }));
      } catch (err) {
        throw batchRefusal(err, item);
      }
    }
    return results;
  };
  if (!options.dryRun) return createAll();
  await tx.run('SAVEPOINT dry_run');
  let results: CreateResult[];
  try {
    results = await createAll();
  } catch (err) {
    // Undone, and the error is the batch's own (not one from undoing it on a lost connection).
    await tx.run('ROLLBACK TO dry_run').then(() => tx.run('RELEASE dry_run')).catch(() => undefined);
    throw err;
  }
  await tx.run('ROLLBACK TO dry_run');
  await tx.run('RELEASE dry_run');
  return results;
}

/**
 * Changes fields (core/task-fields.ts checkEdit and planEdit). An assignee change appends
 * `assigned`; the other changed fields one `edited` event listing each field's old and new value.
 * Values equal to the current ones change nothing. A running task keeps its assignee.
 */
export async function editTask(tx: Tx, id: string, input: EditInput): Promise<Task> {
  const wanted = checkEdit(input);
  const before = await requireTaskRow(tx, id);
  const plan = planEdit(before, input, wanted);
  if ('refused' in plan) throw new Refused(plan.refused);
  const { changes, changed } = plan;
  if (Object.keys(changes).length === 0) return toTask(tx, before);
  const after = await updateTask(tx, before, changes);
  if ('assignee' in changes) await appendEvent(tx, id, 'assigned', { from: before.assignee, to: after.assignee, source: 'user' });
  if (Object.keys(changed).length > 0) await appendEvent(tx, id, 'edited', { changes: changed });
  return toTask(tx, after);
}
