import type pg from 'pg';

import { DB_NOW_MS } from './transaction.js';

/**
 * One transaction on a PostgreSQL board, as the adapter's functions see it: queries with `$n`
 * parameters, and the transaction's time. `now` is the database's clock read as the transaction
 * began (host clocks drift; every host's leases are judged on the server's time), or a test's
 * injected clock. `writing` is false in a read-only transaction (no row locks may be taken).
 *
 * A hot path (claim, heartbeat, lease renewal) is not a transaction but one statement in autocommit,
 * one round trip: there `now` is not read beforehand; the statement takes its time from
 * `timeSql(k)`, with `timeParam` as its parameter `$k`.
 */
export class Tx {
  constructor(
    private readonly client: pg.ClientBase,
    private readonly time: number | null,
    readonly writing: boolean,
    /** False for a hot path's autocommit statement. */
    readonly inTransaction = true,
  ) {}

  /** The transaction's time (epoch ms). */
  get now(): number {
    if (this.time === null) throw new Error('a hot path reads the time in its statement: use timeSql and timeParam');
    return this.time;
  }

  /** SQL for the statement's time, given `$k` bound to `timeParam`: the injected clock's, else the database's. */
  timeSql(k: number): string {
    return `coalesce($${k}::bigint, ${DB_NOW_MS})`;
  }

  /** The injected clock's time, or null for the database's. */
  get timeParam(): number | null {
    return this.time;
  }

  async rows<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return (await this.client.query(sql, params as unknown[])).rows as T[];
  }

  async row<T>(sql: string, params: readonly unknown[] = []): Promise<T | undefined> {
    return (await this.rows<T>(sql, params))[0];
  }

  /** The first column of the first row (undefined: no row). */
  async value<T>(sql: string, params: readonly unknown[] = []): Promise<T | undefined> {
    const result = await this.client.query({ text: sql, values: params as unknown[], rowMode: 'array' });
    return (result.rows[0] as unknown[] | undefined)?.[0] as T | undefined;
  }

  /** The first column of every row. */
  async column<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const result = await this.client.query({ text: sql, values: params as unknown[], rowMode: 'array' });
    return (result.rows as unknown[][]).map((r) => r[0] as T);
  }

  /** Rows changed. */
  async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    return (await this.client.query(sql, params as unknown[])).rowCount ?? 0;
  }

  /** ` FOR UPDATE` in a writing transaction (the row locked until commit), nothing in a read. */
  get forUpdate(): string {
    return this.writing ? ' FOR UPDATE' : '';
  }
}
