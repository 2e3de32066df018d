import pg from 'pg';

/**
 * Connections to a PostgreSQL board. Numbers come back as numbers: bigint columns (times in epoch
 * ms, run and event ids, counts) are parsed with Number, as SQLite's rows have them; every value the
 * board keeps is far below 2^53. The parsers are this pool's own, never pg's global ones.
 */
const INT8 = 20;

const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** The application_name a board process's connections carry (the watch's is its own, WATCH_APPLICATION). */
export const BOARD_APPLICATION = 'kanban';

export interface PoolOptions {
  /** Connections at most (default 4: a board process's tick, keys and screen reads). */
  max?: number;
  /** How long to wait for a connection before the board counts as unreachable (default 10 s). */
  connectTimeoutMs?: number;
}

export function openPool(url: string, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    application_name: BOARD_APPLICATION,
    max: options.max ?? 4,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    idleTimeoutMillis: 30_000,
    types,
  });
  // An idle connection the server drops raises here; the next query finds out and reconnects.
  pool.on('error', () => undefined);
  return pool;
}
