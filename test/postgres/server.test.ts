import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/postgres.js';

/**
 * The throwaway PostgreSQL the PostgreSQL backend's tests run on (issue 14): it starts, takes
 * connections on its Unix socket and nowhere else, and goes away with its data. Skipped without
 * PostgreSQL on a developer's machine; under CI=true a missing server is a failure.
 */
const unavailable = postgresUnavailable();
const skip = unavailable !== null && process.env.CI !== 'true';

describe.skipIf(skip)(`a throwaway PostgreSQL${skip ? ` (skipped: ${unavailable})` : ''}`, () => {
  let server: TestPostgres;
  beforeAll(() => {
    server = startPostgres();
  }, 90_000);
  afterAll(() => server?.stop(), 60_000);

  it('takes connections on its Unix socket only, with fsync off', async () => {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ version: string }>('SELECT version()');
      expect(rows[0]!.version).toMatch(/^PostgreSQL \d+/);
      if (!process.env.KANBAN_TEST_POSTGRES_URL) {
        expect((await client.query<{ listen_addresses: string }>('SHOW listen_addresses')).rows[0]!.listen_addresses).toBe('');
        expect((await client.query<{ fsync: string }>('SHOW fsync')).rows[0]!.fsync).toBe('off');
      }
      await client.query('CREATE TABLE t (id serial PRIMARY KEY, v text)');
      await client.query("INSERT INTO t (v) VALUES ('kept until the server stops')");
      expect((await client.query('SELECT count(*)::int AS n FROM t')).rows[0]).toEqual({ n: 1 });
    } finally {
      await client.end();
    }
  });
});
