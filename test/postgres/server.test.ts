import pg from 'pg';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { freshDatabase } from '../helpers/postgres.js';

/**
 * The run's throwaway PostgreSQL (test/postgres/global-setup.ts), which the PostgreSQL backend's
 * tests run on (issue 14): it takes connections on its Unix socket and nowhere else. Skipped without
 * PostgreSQL on a developer's machine; under CI=true a missing server is a failure.
 */
const server = inject('postgresUrl');
const skip = server === null && process.env.CI !== 'true';

describe.skipIf(skip)(`a throwaway PostgreSQL${skip ? ' (skipped: no PostgreSQL here)' : ''}`, () => {
  let url: string;
  beforeAll(async () => {
    expect(server, 'no PostgreSQL for the run: install postgresql (Debian) or set KANBAN_TEST_POSTGRES_URL').not.toBeNull();
    url = await freshDatabase(server!, 'server');
  });

  it('takes connections on its Unix socket only, with fsync off', async () => {
    const client = new pg.Client({ connectionString: url });
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
