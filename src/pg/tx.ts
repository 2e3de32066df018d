import type pg from 'pg';

/**
 * One transaction on a PostgreSQL board, as the adapter's functions see it: queries with `$n`
 * parameters, and the transaction's time. `now` is the database's clock read as the transaction
 * began (host clocks drift; every host's leases are judged on the server's time), or a test's
 * injected clock. `writing` is false in a read-only transaction (no row locks may be taken).
 */
export class Tx {
  constructor(
    private readonly client: pg.ClientBase,
    readonly now: number,
    readonly writing: boolean,
  ) {}

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
