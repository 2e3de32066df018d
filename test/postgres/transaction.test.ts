import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { inTransaction, isRetryable } from '../../src/pg/transaction.js';
import { freshDatabase } from '../helpers/postgres.js';

/**
 * The PostgreSQL board's transactions (issue 14): serializable transitions that collide are run
 * again until each has committed once, as if one had run after the other.
 */
const server = inject('postgresUrl');
const skip = server === null && process.env.CI !== 'true';

describe.skipIf(skip)(`PostgreSQL transactions${skip ? ' (skipped: no PostgreSQL here)' : ''}`, () => {
  let pool: pg.Pool;
  beforeAll(async () => {
    expect(server, 'no PostgreSQL for the run: install postgresql (Debian) or set KANBAN_TEST_POSTGRES_URL').not.toBeNull();
    pool = new pg.Pool({ connectionString: await freshDatabase(server!, 'transactions'), max: 20 });
    await pool.query('CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL)');
    await pool.query('INSERT INTO counter VALUES (1, 0)');
  });
  afterAll(async () => {
    await pool?.end();
  });

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
