import pg from 'pg';
import { PgBoard } from '../../src/pg/board.js';
import { migratePg } from '../../src/pg/schema.js';
import type { BoardStore } from '../../src/port/board.js';
import type { TaskRow } from '../../src/core/types.js';
import type { ManualClock } from '../helpers/board.js';
import { withClient, withDatabase } from '../helpers/postgres.js';
import type { BoardFactory, Harness } from '../conformance/suite.js';

/**
 * The PostgreSQL factory: each board a new database on the run's server, copied from a template
 * migrated once per test file (CREATE DATABASE … TEMPLATE), and dropped when the spec closes it.
 * The hooks use a plain connection of their own.
 */
let template: Promise<string> | null = null;
let made = 0;

function templateDatabase(serverUrl: string): Promise<string> {
  template ??= (async () => {
    const name = `kanban_template_${process.pid}`;
    await withClient(serverUrl, (c) => c.query(`CREATE DATABASE ${name}`));
    await withClient(withDatabase(serverUrl, name), (client) => migratePg(client));
    return name;
  })();
  return template;
}

/** A new, migrated, empty board database on `serverUrl`: its URL, and a way to drop it. */
export async function newPgDatabase(serverUrl: string, label = 'board'): Promise<{ url: string; drop(): Promise<void> }> {
  const from = await templateDatabase(serverUrl);
  const name = `kanban_${label}_${process.pid}_${++made}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  await withClient(serverUrl, (c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${from}`));
  return { url: withDatabase(serverUrl, name), drop: () => withClient(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined) };
}

/** Every row of every table in a canonical order (equal dumps: nothing was written). */
export async function dumpPg(client: pg.ClientBase): Promise<Record<string, unknown[]>> {
  const tables = ['tasks', 'task_links', 'task_runs', 'task_events', 'task_comments', 'event_cursors'];
  const dump: Record<string, unknown[]> = {};
  for (const table of tables) dump[table] = (await client.query({ text: `SELECT * FROM ${table} ORDER BY 1, 2`, rowMode: 'array' })).rows;
  return dump;
}

/** Test hook: sets columns of a task's row directly, for a state the transitions would not make. */
export async function forcePgTask(client: pg.ClientBase, id: string, patch: Partial<TaskRow>): Promise<void> {
  const columns = Object.keys(patch);
  await client.query(`UPDATE tasks SET ${columns.map((c, i) => `${c} = $${i + 2}`).join(', ')} WHERE id = $1`, [id, ...columns.map((c) => (patch as Record<string, unknown>)[c])]);
}

export async function openPg(serverUrl: string, clock: ManualClock): Promise<Harness & { url: string }> {
  const database = await newPgDatabase(serverUrl);
  const open = () => PgBoard.open(database.url, { clock });
  const board = await open();
  const hooks = new pg.Client({ connectionString: database.url });
  await hooks.connect();
  const others: BoardStore[] = [];
  return {
    url: database.url,
    board,
    second: async () => {
      const other = await open();
      others.push(other);
      return other;
    },
    snapshot: () => dumpPg(hooks),
    force: (taskId, patch) => forcePgTask(hooks, taskId, patch),
    close: async () => {
      await Promise.all([board, ...others].map((b) => b.close()));
      await hooks.end();
      await database.drop();
    },
  };
}

export function pgFactory(serverUrl: string): BoardFactory {
  return { name: 'PostgreSQL', open: (clock: ManualClock) => openPg(serverUrl, clock) };
}
