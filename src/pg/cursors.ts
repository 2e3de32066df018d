import { Refused } from '../errors.js';
import { cursorTarget } from '../core/dispatch.js';
import type { EventRow, Task, TaskRow } from '../core/types.js';
import type { Take } from '../port/types.js';
import { sqlLimit } from './dispatch.js';
import type { Tx } from './tx.js';

const NOTHING: Take = { started: false, events: [] };

async function cursorAt(tx: Tx, name: string): Promise<number | undefined> {
  return tx.value<number>('SELECT event_id FROM event_cursors WHERE name = $1', [name]);
}

async function latestEventId(tx: Tx): Promise<number> {
  return (await tx.value<number | null>('SELECT max(id) FROM task_events')) ?? 0;
}

/**
 * Takes the events after cursor `name` whose kind is one of `kinds` (the first `limit` of them) and
 * moves the cursor past them, and past every other event up to there, with a compare-and-set on the
 * cursor in a SERIALIZABLE transaction: two takes at once both write the cursor's row, so one fails
 * and runs again from where the other left it; each event is taken once, by one process, whatever
 * number share the board. A cursor that does not exist yet is started at the latest event: the
 * board's history is never taken. Event ids grow in commit order (the schema numbers an event as
 * its transaction commits, one transaction at a time), so an event committed later never lands
 * behind the cursor.
 */
export async function takeEvents(tx: Tx, name: string, kinds: readonly string[], limit: number): Promise<Take> {
  // Most ticks find nothing new, and then write nothing.
  const from = await cursorAt(tx, name);
  const latest = await latestEventId(tx);
  if (from === undefined) {
    // Two starting at once: the second's insert meets the first's row and fails serialization; run again, it finds the cursor.
    await tx.run('INSERT INTO event_cursors (name, event_id, updated_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING', [name, latest, tx.now]);
    return { started: true, events: [] };
  }
  if (from >= latest) return NOTHING;
  const rows = await tx.rows<EventRow>('SELECT * FROM task_events WHERE id > $1 AND id <= $2 AND kind = ANY($3::text[]) ORDER BY id LIMIT $4', [from, latest, kinds, sqlLimit(limit)]);
  const to = cursorTarget(rows, limit, latest);
  const moved = await tx.run('UPDATE event_cursors SET event_id = $1, updated_at = $2 WHERE name = $3 AND event_id = $4', [to, tx.now, name, from]);
  if (moved !== 1) throw new Refused(`event cursor ${name} moved meanwhile`);
  const tasks = await tasksAsTaken(tx, [...new Set(rows.map((row) => row.task_id))]);
  return { started: false, events: rows.map((event) => ({ event, task: tasks.get(event.task_id) ?? null })) };
}

/** The tasks of the events taken, as they are now (read, not locked), with their links. */
async function tasksAsTaken(tx: Tx, ids: string[]): Promise<Map<string, Task>> {
  const tasks = new Map<string, Task>();
  if (ids.length === 0) return tasks;
  for (const row of await tx.rows<TaskRow>('SELECT * FROM tasks WHERE id = ANY($1::text[])', [ids])) tasks.set(row.id, { ...row, parents: [], children: [] });
  const links = await tx.rows<{ parent_id: string; child_id: string }>(
    'SELECT parent_id, child_id FROM task_links WHERE parent_id = ANY($1::text[]) OR child_id = ANY($1::text[]) ORDER BY parent_id, child_id',
    [ids],
  );
  // In (parent, child) order: each task's parents in order, and each task's children.
  for (const { parent_id, child_id } of links) {
    tasks.get(child_id)?.parents.push(parent_id);
    tasks.get(parent_id)?.children.push(child_id);
  }
  return tasks;
}
