import { migratePg } from '../src/pg/schema.js';
import { postgresUnavailable, startPostgres, withClient, withDatabase } from '../test/helpers/postgres.js';

/**
 * The PostgreSQL server the benchmarks measure on: KANBAN_BENCH_POSTGRES_URL's, else a throwaway one
 * started as the tests start theirs (test/helpers/postgres.ts: Debian's binaries, a Unix socket only,
 * fsync and synchronous_commit off) and stopped at the end. Each measurement gets a database of its
 * own, copied from a template migrated once, all of them dropped at the end.
 */
export interface BenchPostgres {
  /** How the server was had, for the report: a throwaway one (fsync off), or the one an environment variable names. */
  source: string;
  /** A new, migrated, empty board database: its URL, and a way to drop it. */
  database(label: string): Promise<{ url: string; drop(): Promise<void> }>;
  stop(): Promise<void>;
}


/** The server, or why there is none (the caller prints it and goes on without the PostgreSQL figures). */
export async function benchPostgres(): Promise<BenchPostgres | { skipped: string }> {
  // startPostgres hands the tests' server when KANBAN_TEST_POSTGRES_URL names one: a server not ours either.
  const givenBy = process.env.KANBAN_BENCH_POSTGRES_URL ? 'KANBAN_BENCH_POSTGRES_URL' : process.env.KANBAN_TEST_POSTGRES_URL ? 'KANBAN_TEST_POSTGRES_URL' : null;
  const given = givenBy && process.env[givenBy];
  let server: { url: string; stop(): void };
  if (given) server = { url: given, stop: () => {} };
  else {
    const why = postgresUnavailable();
    if (why) return { skipped: why };
    let started: { url: string; stop(): void };
    try {
      started = startPostgres();
    } catch (err) {
      return { skipped: err instanceof Error ? err.message.split('\n')[0]! : String(err) };
    }
    // A bench stopped half way (Ctrl-C, a closed pipe, a throw) must not leave the server running.
    const onExit = () => started.stop();
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('exit', onExit);
      started.stop();
      process.kill(process.pid, signal);
    };
    process.once('exit', onExit);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    server = {
      url: started.url,
      stop: () => {
        process.off('exit', onExit);
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        started.stop();
      },
    };
  }
  const made: string[] = [];
  const template = `kanban_bench_template_${process.pid}`;
  try {
    await withClient(server.url, (c) => c.query(`DROP DATABASE IF EXISTS ${template}`).then(() => c.query(`CREATE DATABASE ${template}`)));
    made.push(template);
    await withClient(withDatabase(server.url, template), (c) => migratePg(c));
  } catch (err) {
    server.stop();
    return { skipped: `cannot use the server: ${err instanceof Error ? err.message : String(err)}` };
  }
  let count = 0;
  const drop = (name: string) => withClient(server.url, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined);
  return {
    source: given ? `the server ${givenBy} names` : 'throwaway server as the tests start it: fsync and synchronous_commit off',
    async database(label) {
      const name = `kanban_bench_${label}_${process.pid}_${++count}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
      await withClient(server.url, (c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
      made.push(name);
      return {
        url: withDatabase(server.url, name),
        drop: async () => {
          await drop(name);
          made.splice(made.indexOf(name), 1);
        },
      };
    },
    async stop() {
      try {
        // What is left on a server the bench did not start (the template, a measurement that failed).
        if (given) for (const name of made.reverse()) await drop(name).catch(() => undefined);
      } finally {
        server.stop();
      }
    },
  };
}
