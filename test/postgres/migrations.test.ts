import pg from 'pg';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { PG_SCHEMA_VERSION, migratePg, schemaVersion } from '../../src/pg/schema.js';
import { freshDatabase } from '../helpers/postgres.js';

/** The PostgreSQL board's migrations (issue 14): several hosts starting at once migrate once. */
const server = inject('postgresUrl');
const skip = server === null && process.env.CI !== 'true';

describe.skipIf(skip)(`PostgreSQL migrations${skip ? ' (skipped: no PostgreSQL here)' : ''}`, () => {
  beforeAll(() => {
    expect(server, 'no PostgreSQL for the run: install postgresql (Debian) or set KANBAN_TEST_POSTGRES_URL').not.toBeNull();
  });

  /** A new board database on the run's server, and a way to connect to it. */
  async function newBoard(): Promise<() => Promise<pg.Client>> {
    const url = await freshDatabase(server!, 'migrations');
    return async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      return client;
    };
  }

  it('eight connections migrating a new board at once: it is migrated once, to the latest version', async () => {
    const connect = await newBoard();
    const clients = await Promise.all(Array.from({ length: 8 }, connect));
    try {
      const applied = await Promise.all(clients.map((client) => migratePg(client)));
      // Each version applied once, by whichever connection got there first (one may apply v1, another v2).
      expect(applied.flat().sort((x, y) => x - y)).toEqual(Array.from({ length: PG_SCHEMA_VERSION }, (_, i) => i + 1));
      expect(await schemaVersion(clients[0]!)).toBe(PG_SCHEMA_VERSION);
      const { rows } = await clients[0]!.query<{ n: number }>('SELECT count(*)::int AS n FROM kanban_schema');
      expect(rows[0]!.n).toBe(1);
      const tables = await clients[0]!.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1");
      expect(tables.rows.map((r) => r.table_name)).toEqual(['collected_tasks', 'event_cursors', 'hosts', 'kanban_schema', 'run_logs', 'task_comments', 'task_events', 'task_links', 'task_runs', 'tasks']);
      expect(await migratePg(clients[1]!)).toEqual([]); // again: nothing to do
    } finally {
      await Promise.all(clients.map((client) => client.end()));
    }
  });

  it("a host still running the kanban before v3 claims as it did: v1's kanban_claim is still there", async () => {
    const connect = await newBoard();
    const client = await connect();
    try {
      await migratePg(client);
      const now = Date.now();
      await client.query("INSERT INTO tasks (id, title, status, created_at, updated_at) VALUES ('t_0000000a', 'old host', 'ready', $1, $1)", [now]);
      // The call the kanban before v3 makes (pg/lease.ts then): seven arguments.
      const claim = (lock: string) => client.query<{ answer: { result: string; task: { status: string; assignee: string | null } } }>('SELECT kanban_claim($1, $2, $3, $4, $5, $6, $7) AS answer', ['t_0000000a', 'coder', 60_000, lock, null, 4, null]);
      expect((await claim('h_0000000000000000:1:0123456789ab')).rows[0]!.answer).toMatchObject({ result: 'claimed', task: { status: 'running', assignee: null } });
      expect((await claim('h_0000000000000000:1:ba9876543210')).rows[0]!.answer).toMatchObject({ result: 'refused' });
    } finally {
      await client.end();
    }
  });

  it('a board a newer kanban wrote is refused, and left as it is', async () => {
    const connect = await newBoard();
    const client = await connect();
    try {
      await migratePg(client);
      await client.query('UPDATE kanban_schema SET version = $1', [PG_SCHEMA_VERSION + 5]);
      await expect(migratePg(client)).rejects.toThrow(/written by a newer kanban \(schema version \d+; this kanban knows up to \d+\): upgrade kanban/);
      expect(await schemaVersion(client)).toBe(PG_SCHEMA_VERSION + 5);
    } finally {
      await client.end();
    }
  });

  it('the schema keeps the board rules: a task id, a status and a run outcome outside them are refused', async () => {
    const connect = await newBoard();
    const client = await connect();
    try {
      await migratePg(client);
      const insert = (id: string, status: string) => client.query('INSERT INTO tasks (id, title, status, created_at, updated_at) VALUES ($1, $2, $3, 0, 0)', [id, 'x', status]);
      await insert('t_0123abcd', 'ready');
      await expect(insert('t_nothex!', 'ready')).rejects.toThrow(/check constraint/);
      await expect(insert('t_0123abce', 'someday')).rejects.toThrow(/check constraint/);
      await expect(client.query("INSERT INTO task_runs (task_id, status, claim_lock, started_at, outcome) VALUES ('t_0123abcd', 'ended', 'h:1:a', 0, 'exploded')")).rejects.toThrow(/check constraint/);
    } finally {
      await client.end();
    }
  });
});
