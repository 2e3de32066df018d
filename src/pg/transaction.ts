import type pg from 'pg';
import { monotonicMs } from '../clock.js';

/**
 * A PostgreSQL board's transactions (issue 14). Ordinary transitions run at SERIALIZABLE, the
 * one-writer semantics SQLite gives and the race and property tests encode; claims, lease renewals
 * and heartbeats are single statements at READ COMMITTED (under SERIALIZABLE a prototype saw 1,400+
 * serialization failures a second on claims). A serialization failure or a deadlock rolls back
 * everything, so the body runs again from the start, with a jittered wait, until `deadlineMs`.
 */
export type Isolation = 'serializable' | 'repeatable read' | 'read committed';

/** SQLSTATEs after which the whole transaction may simply run again. */
const RETRYABLE = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected

export interface TransactionOptions {
  isolation?: Isolation;
  readOnly?: boolean;
  /** How long to keep trying after serialization failures and deadlocks (default 10 s). */
  deadlineMs?: number;
  /** Read the database's time as the transaction begins, in the same round trip (the body's `dbNow`). */
  readTime?: boolean;
}

/** The database's time in epoch ms (one per statement): every PostgreSQL board's clock when no test injects one. */
export const DB_NOW_MS = '(extract(epoch from statement_timestamp()) * 1000)::bigint';

/** What went wrong where: a failure of COMMIT itself may or may not have committed. */
export class CommitFailed extends Error {
  constructor(override readonly cause: unknown) {
    super(`COMMIT failed: ${(cause as Error)?.message ?? String(cause)}`);
  }
}

/** Whether `err` is one PostgreSQL says to retry the transaction after. */
export function isRetryable(err: unknown): boolean {
  return RETRYABLE.has((err as { code?: unknown })?.code as string);
}

/**
 * Runs `body` in a transaction on a client of `pool`, committing what it did, or rolling it back and
 * raising its error. `body` must only touch the board: it may run more than once.
 */
export async function inTransaction<T>(pool: pg.Pool, body: (client: pg.PoolClient, dbNow: number | null) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const begin = `BEGIN ISOLATION LEVEL ${(options.isolation ?? 'serializable').toUpperCase()}${options.readOnly ? ' READ ONLY' : ''}${options.readTime ? `; SELECT ${DB_NOW_MS} AS now` : ''}`;
  const deadline = monotonicMs() + (options.deadlineMs ?? 10_000);
  const client = await pool.connect();
  let broken = false;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        const began = (await client.query(begin)) as unknown as pg.QueryResult | pg.QueryResult[];
        const dbNow = Array.isArray(began) ? (began[1]!.rows[0] as { now: number }).now : null;
        const result = await body(client, dbNow);
        try {
          await client.query('COMMIT');
        } catch (err) {
          if (isRetryable(err)) throw err; // a serialization failure at commit: nothing was written
          throw new CommitFailed(err);
        }
        return result;
      } catch (err) {
        if (err instanceof CommitFailed) {
          broken = true; // the connection is broken or the outcome unknown: no ROLLBACK, no retry
          throw err;
        }
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        if (!isRetryable(err) || monotonicMs() >= deadline) throw err;
        const ceiling = Math.min(100, 2 * 2 ** attempt);
        await new Promise((resolve) => setTimeout(resolve, ceiling / 2 + Math.random() * (ceiling / 2)));
      }
    }
  } finally {
    // A connection that could not roll back, or failed at COMMIT, is closed, not handed out again.
    client.release(broken ? true : undefined);
  }
}
