import { Refused } from '../errors.js';
import { cursorTarget } from '../core/dispatch.js';
import type { Store } from './db.js';
import { parseEvent, type StoredEvent } from './events.js';
import { getTaskRow } from './rows.js';
import { toTask } from './tasks.js';
import type { Take } from '../port/types.js';

const NOTHING: Take = { started: false, events: [] };

function cursorAt(store: Store, name: string): number | undefined {
  return store.stmt('SELECT event_id FROM event_cursors WHERE name = ?').pluck().get(name) as number | undefined;
}

function latestEventId(store: Store): number {
  return (store.stmt('SELECT max(id) FROM task_events').pluck().get() as number | null) ?? 0;
}

/**
 * Takes the events after cursor `name` whose kind is one of `kinds` (the first `limit` of them) and
 * moves the cursor past them, and past every other event up to there, in one write transaction with
 * a compare-and-set on the cursor: whoever commits first takes an event, so each is taken once, by
 * one process, whatever number share the board. A cursor that does not exist yet is started at the
 * latest event: the board's history is never taken. Event ids grow in commit order (one writer at a
 * time), so an event committed later never lands behind the cursor.
 */
export function takeEvents(store: Store, name: string, kinds: readonly string[], limit: number): Take {
  // Read first, outside a transaction: most ticks find nothing new, and then write nothing.
  const seen = cursorAt(store, name);
  if (seen !== undefined && seen >= latestEventId(store)) return NOTHING;
  return store.writeTxn(() => {
    const from = cursorAt(store, name);
    const latest = latestEventId(store);
    const now = store.clock.now();
    if (from === undefined) {
      store.stmt('INSERT INTO event_cursors (name, event_id, updated_at) VALUES (?, ?, ?)').run(name, latest, now);
      return { started: true, events: [] };
    }
    if (from >= latest) return NOTHING;
    const rows = store
      .stmt('SELECT * FROM task_events WHERE id > ? AND id <= ? AND kind IN (SELECT value FROM json_each(?)) ORDER BY id LIMIT ?')
      .all(from, latest, JSON.stringify(kinds), limit) as StoredEvent[];
    const to = cursorTarget(rows, limit, latest);
    const moved = store.stmt('UPDATE event_cursors SET event_id = ?, updated_at = ? WHERE name = ? AND event_id = ?').run(to, now, name, from);
    if (moved.changes !== 1) throw new Refused(`event cursor ${name} moved meanwhile`);
    return {
      started: false,
      events: rows.map((row) => {
        const task = getTaskRow(store, row.task_id);
        return { event: parseEvent(row), task: task ? toTask(store, task) : null };
      }),
    };
  });
}
