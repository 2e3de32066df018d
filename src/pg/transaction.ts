import type pg from 'pg';

/**
 * A PostgreSQL board's transactions (issue 14). Ordinary transitions run at SERIALIZABLE, the
 * one-writer semantics SQLite gives and the race and property tests encode; claims, lease renewals
 * and heartbeats are single statements at READ COMMITTED (under SERIALIZABLE a prototype saw 1,400+
 * serialization failures a second on claims). A serialization failure or a deadlock rolls back
 * everything, so the body runs again from the start, with a jittered wait, until `deadlineMs`.
 */
export type Isolation = 'serializable' | 'read committed';

/** SQLSTATEs after which the whole transaction may simply run again. */
const RETRYABLE = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected

export interface TransactionOptions {
  isolation?: Isolation;
  readOnly?: boolean;
  /** How long to keep trying after serialization failures and deadlocks (default 10 s). */
  deadlineMs?: number;
}

/** Whether `err` is one PostgreSQL says to retry the transaction after. */
export function isRetryable(err: unknown): boolean {
  return RETRYABLE.has((err as { code?: unknown })?.code as string);
}

/**
 * Runs `body` in a transaction on a client of `pool`, committing what it did, or rolling it back and
 * raising its error. `body` must only touch the board: it may run more than once.
 */
export async function inTransaction<T>(pool: pg.Pool, body: (client: pg.PoolClient) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const begin = `BEGIN ISOLATION LEVEL ${(options.isolation ?? 'serializable').toUpperCase()}${options.readOnly ? ' READ ONLY' : ''}`;
  const deadline = performance.now() + (options.deadlineMs ?? 10_000);
  const client = await pool.connect();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(begin);
        const result = await body(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        if (!isRetryable(err) || performance.now() >= deadline) throw err;
        const ceiling = Math.min(100, 2 * 2 ** attempt);
        await new Promise((resolve) => setTimeout(resolve, ceiling / 2 + Math.random() * (ceiling / 2)));
      }
    }
  } finally {
    client.release();
  }
}
