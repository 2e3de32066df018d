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
    return (await this.client.query(sql, storable(params))).rows as T[];
  }

  async row<T>(sql: string, params: readonly unknown[] = []): Promise<T | undefined> {
    return (await this.rows<T>(sql, params))[0];
  }

  /** The first column of the first row (undefined: no row). */
  async value<T>(sql: string, params: readonly unknown[] = []): Promise<T | undefined> {
    const result = await this.client.query({ text: sql, values: storable(params), rowMode: 'array' });
    return (result.rows[0] as unknown[] | undefined)?.[0] as T | undefined;
  }

  /** The first column of every row. */
  async column<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const result = await this.client.query({ text: sql, values: storable(params), rowMode: 'array' });
    return (result.rows as unknown[][]).map((r) => r[0] as T);
  }

  /** Rows changed. */
  async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    return (await this.client.query(sql, storable(params))).rowCount ?? 0;
  }

  /**
   * ` FOR NO KEY UPDATE` in a writing transaction (the row locked until commit, as an UPDATE of it
   * locks it: inserting its events, runs or links never waits on it), nothing in a read.
   */
  get forUpdate(): string {
    return this.writing ? ' FOR NO KEY UPDATE' : '';
  }
}

/**
 * PostgreSQL's text cannot hold NUL, which SQLite's can (a worker's output, an error text): a NUL in
 * a string is stored as U+FFFD instead of failing the whole write.
 */
function storable(params: readonly unknown[]): unknown[] {
  return params.map((value) => (typeof value === 'string' && value.includes('\0') ? value.replaceAll('\0', '\uFFFD') : value));
}

/** JSON for a jsonb column, NULs as U+FFFD (jsonb refuses \u0000). */
export function storableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' && v.includes('\0') ? v.replaceAll('\0', '\uFFFD') : v));
}
