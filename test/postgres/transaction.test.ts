import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction, isRetryable } from '../../src/pg/transaction.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/postgres.js';

/**
 * The PostgreSQL board's transactions (issue 14): serializable transitions that collide are run
 * again until each has committed once, as if one had run after the other.
 */
const unavailable = postgresUnavailable();
const skip = unavailable !== null && process.env.CI !== 'true';

describe.skipIf(skip)(`PostgreSQL transactions${skip ? ` (skipped: ${unavailable})` : ''}`, () => {
  let server: TestPostgres;
  let pool: pg.Pool;
  beforeAll(async () => {
    server = startPostgres();
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('CREATE DATABASE txn');
    await admin.end();
    pool = new pg.Pool({ connectionString: server.urlFor('txn'), max: 20 });
    await pool.query('CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL)');
    await pool.query('INSERT INTO counter VALUES (1, 0)');
  }, 90_000);
  afterAll(async () => {
    await pool?.end();
    server?.stop();
  }, 60_000);

  it('twenty read-then-write increments at SERIALIZABLE, all at once: every one lands once, none is lost', async () => {
    let collisions = 0;
    const increment = () =>
      inTransaction(pool, async (client) => {
        const { rows } = await client.query<{ n: number }>('SELECT n FROM counter WHERE id = 1');
        await new Promise((resolve) => setTimeout(resolve, 5)); // let the others read the same value
        try {
          await client.query('UPDATE counter SET n = $1 WHERE id = 1', [rows[0]!.n + 1]);
        } catch (err) {
          if (isRetryable(err)) collisions++;
          throw err;
        }
      });
    await Promise.all(Array.from({ length: 20 }, increment));
    expect((await pool.query<{ n: number }>('SELECT n FROM counter WHERE id = 1')).rows[0]!.n).toBe(20);
    expect(collisions).toBeGreaterThan(0); // they did collide, and were run again
  });

  it('a body that fails for its own reasons is rolled back and its error raised, not retried', async () => {
    let runs = 0;
    await expect(
      inTransaction(pool, async (client) => {
        runs++;
        await client.query('UPDATE counter SET n = -1 WHERE id = 1');
        throw new Error('refused by the transition');
      }),
    ).rejects.toThrow('refused by the transition');
    expect(runs).toBe(1);
    expect((await pool.query<{ n: number }>('SELECT n FROM counter WHERE id = 1')).rows[0]!.n).not.toBe(-1);
  });
});
