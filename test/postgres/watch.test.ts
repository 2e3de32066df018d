import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migratePg } from '../../src/pg/schema.js';
import { PgWatcher, WATCH_APPLICATION } from '../../src/pg/watch.js';
import { freshDatabase } from '../helpers/postgres.js';
import { waitFor } from '../helpers/workers.js';

/**
 * The PostgreSQL board's watch (issue 14): another connection's commit is heard (a trigger on
 * task_events NOTIFYs); it tells once when it begins to listen, for what was committed before it
 * could hear; and a listening connection the server drops is made again, with a full reload, after
 * which commits are heard as before.
 */
const server = inject('postgresUrl');
const skip = server === null && process.env.CI !== 'true';
const WAIT_MS = 30_000; // the machine's deadline; the product's bound is printed

describe.skipIf(skip)(`PostgreSQL watch${skip ? ' (skipped: no PostgreSQL here)' : ''}`, () => {
  let url: string;
  let writer: pg.Client;
  let events = 0;
  beforeAll(async () => {
    expect(server, 'no PostgreSQL for the run: install postgresql (Debian) or set KANBAN_TEST_POSTGRES_URL').not.toBeNull();
    url = await freshDatabase(server!, 'watch');
    writer = new pg.Client({ connectionString: url });
    await writer.connect();
    await migratePg(writer);
    await writer.query("INSERT INTO tasks (id, title, status, created_at, updated_at) VALUES ('t_0000abcd', 'watched', 'ready', 0, 0)");
  });
  afterAll(async () => {
    await writer?.end();
  });

  const commit = () => writer.query("INSERT INTO task_events (task_id, kind, created_at) VALUES ('t_0000abcd', 'commented', $1)", [++events]);

  it('a commit made before its LISTEN is in place is not missed: it tells once when it begins to listen', async () => {
    let changes = 0;
    let listening = false;
    await commit(); // after the caller's read, before the watch: said to no one that will hear
    const watcher = new PgWatcher(url, () => changes++, { onState: (s) => (listening ||= s === 'listening') });
    try {
      await waitFor('the watch to listen, and tell', () => listening && changes === 1, WAIT_MS);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(changes).toBe(1);
    } finally {
      watcher.close();
    }
  });

  it('hears another connection commit, a burst as one change; and after the server drops its connection it reconnects, reloads, and hears again', async () => {
    let changes = 0;
    const states: string[] = [];
    const watcher = new PgWatcher(url, () => changes++, { backoffMs: 50, pingMs: 200, onState: (s) => states.push(s) });
    try {
      await waitFor('the watch to listen, and tell once', () => states.includes('listening') && changes === 1, WAIT_MS);
      const committed = performance.now();
      await commit();
      await waitFor('the change heard', () => changes === 2, WAIT_MS);
      console.log(`PostgreSQL: watch heard another connection's commit after ${Math.round(performance.now() - committed)} ms`);
      await Promise.all([commit(), commit(), commit()]);
      await waitFor('the burst heard', () => changes >= 3, WAIT_MS);

      const before = changes;
      const dropped = await writer.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()', [WATCH_APPLICATION]);
      expect(dropped.rowCount).toBe(1);
      await waitFor('a reconnect and its reload', () => states.lastIndexOf('listening') > states.indexOf('reconnecting') && states.includes('reconnecting') && changes > before, WAIT_MS);
      const reloaded = changes;
      await commit();
      await waitFor('a commit heard after the reconnect', () => changes > reloaded, WAIT_MS);
    } finally {
      watcher.close();
    }
  });

  it('closed, it hears nothing more and holds no connection', async () => {
    let changes = 0;
    let listening = false;
    const watcher = new PgWatcher(url, () => changes++, { onState: (s) => (listening ||= s === 'listening') });
    await waitFor('the watch to listen, and tell once', () => listening && changes === 1, WAIT_MS);
    watcher.close();
    const deadline = Date.now() + WAIT_MS;
    while ((await writer.query('SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()', [WATCH_APPLICATION])).rowCount !== 0) {
      expect(Date.now(), 'its connection gone').toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await commit();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(changes).toBe(1); // the one as it began to listen, nothing since
  });
});
