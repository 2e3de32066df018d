import type { Task } from '../core/types.js';
import type { BatchItem, CreateInput, CreateResult, EditInput, ListFilter, TaskDetail } from '../port/types.js';
import { Refused } from '../errors.js';
import { newTaskId } from '../ids.js';
import { checkCreate, createdStatus, newTaskRow } from '../core/task-fields.js';
import type { TaskRow } from '../core/types.js';
import { appendEvent, getTaskRow, insertLink, requireTaskRow, toTask } from './rows.js';
import { notYet } from './stub.js';
import type { Tx } from './tx.js';

export async function getTask(tx: Tx, id: string): Promise<Task> {
  return toTask(tx, await requireTaskRow(tx, id));
}
export async function countTasks(tx: Tx): Promise<number> {
  return (await tx.value<number>('SELECT count(*) FROM tasks'))!;
}
export async function showTask(_tx: Tx, _id: string): Promise<TaskDetail> { return notYet('showTask'); }
export async function listTasks(_tx: Tx, _filter: ListFilter = {}): Promise<Task[]> { return notYet('listTasks'); }
export async function listTasksJson(_tx: Tx, _filter: ListFilter = {}): Promise<Buffer> { return notYet('listTasksJson'); }
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
export async function createTasks(_tx: Tx, _items: readonly BatchItem[], _options: { dryRun?: boolean } = {}): Promise<CreateResult[]> { return notYet('createTasks'); }
export async function editTask(_tx: Tx, _id: string, _input: EditInput): Promise<Task> { return notYet('editTask'); }
