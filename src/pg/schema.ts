import type pg from 'pg';
import { RUN_OUTCOMES, STATUSES, WORKSPACE_KINDS } from '../core/types.js';

/**
 * The PostgreSQL board's schema (issue 14), numbered like SQLite's but its own: version 1 is SQLite's
 * version 7, the same tables, columns and rules. Times are epoch milliseconds (bigint), as on SQLite,
 * so the port's rows are the same; payloads are jsonb. Never edit a migration that has shipped; add
 * the next one.
 */
export interface PgMigration {
  version: number;
  sql: string;
}

const list = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');

/** The channel a board's writes are announced on (a trigger on task_events NOTIFYs it). */
export const PG_CHANGE_CHANNEL = 'kanban_board_changed';

const v1: PgMigration = {
  version: 1,
  sql: `
    CREATE TABLE tasks (
      id text PRIMARY KEY CHECK (id ~ '^t_[0-9a-f]{8}$'),
      title text NOT NULL,
      body text NOT NULL DEFAULT '',
      status text NOT NULL CHECK (status IN (${list(STATUSES)})),
      assignee text,
      priority integer NOT NULL DEFAULT 0,
      claim_lock text,
      claim_expires bigint,
      worker_pid integer,
      current_run_id bigint,
      last_heartbeat_at bigint,
      consecutive_failures integer NOT NULL DEFAULT 0,
      max_retries integer,
      max_runtime_seconds double precision,
      scheduled_until bigint,
      status_reason text,
      summary text,
      workspace_kind text NOT NULL DEFAULT 'scratch' CHECK (workspace_kind IN (${list(WORKSPACE_KINDS)})),
      workspace_path text,
      idempotency_key text,
      created_at bigint NOT NULL,
      updated_at bigint NOT NULL,
      started_at bigint,
      completed_at bigint
    );
    CREATE INDEX tasks_status ON tasks (status, priority DESC, created_at);
    CREATE INDEX tasks_status_updated ON tasks (status, updated_at DESC, id);
    CREATE INDEX tasks_assignee_status ON tasks (assignee, status);
    CREATE UNIQUE INDEX tasks_idempotency_key ON tasks (idempotency_key) WHERE idempotency_key IS NOT NULL AND status <> 'archived';

    CREATE TABLE task_links (
      parent_id text NOT NULL REFERENCES tasks (id),
      child_id text NOT NULL REFERENCES tasks (id),
      created_at bigint NOT NULL,
      PRIMARY KEY (parent_id, child_id),
      CHECK (parent_id <> child_id)
    );
    CREATE INDEX task_links_child ON task_links (child_id, parent_id);

    CREATE TABLE task_runs (
      id bigserial PRIMARY KEY,
      task_id text NOT NULL REFERENCES tasks (id),
      profile text,
      status text NOT NULL CHECK (status IN ('running', 'ended')),
      claim_lock text NOT NULL,
      worker_pid integer,
      started_at bigint NOT NULL,
      ended_at bigint,
      last_heartbeat_at bigint,
      outcome text CHECK (outcome IS NULL OR outcome IN (${list(RUN_OUTCOMES)})),
      summary text,
      error text,
      exit_code integer,
      supervisor_pid integer,
      signal text,
      lease_ms bigint NOT NULL DEFAULT 900000
    );
    CREATE INDEX task_runs_task ON task_runs (task_id, id);
    CREATE INDEX task_runs_open ON task_runs (task_id) WHERE status = 'running';
    CREATE INDEX task_runs_ended_with_worker ON task_runs (ended_at) WHERE worker_pid IS NOT NULL;
    CREATE INDEX task_runs_profile_outcome ON task_runs (profile, outcome, started_at, ended_at);
    CREATE INDEX task_runs_task_time ON task_runs (task_id, started_at, ended_at);

    CREATE TABLE task_events (
      id bigserial PRIMARY KEY,
      task_id text NOT NULL REFERENCES tasks (id),
      run_id bigint REFERENCES task_runs (id),
      kind text NOT NULL,
      payload jsonb NOT NULL DEFAULT '{}',
      created_at bigint NOT NULL
    );
    CREATE INDEX task_events_task ON task_events (task_id, id);
    CREATE INDEX task_events_run ON task_events (run_id) WHERE run_id IS NOT NULL;
    CREATE INDEX task_events_rate_limited ON task_events (task_id, created_at, ((payload ->> 'cooldown_until')::bigint)) WHERE kind = 'rate_limited';

    CREATE TABLE task_comments (
      id bigserial PRIMARY KEY,
      task_id text NOT NULL REFERENCES tasks (id),
      run_id bigint REFERENCES task_runs (id),
      author text NOT NULL,
      body text NOT NULL,
      created_at bigint NOT NULL
    );
    CREATE INDEX task_comments_task ON task_comments (task_id, id);

    CREATE TABLE event_cursors (
      name text PRIMARY KEY,
      event_id bigint NOT NULL,
      updated_at bigint NOT NULL
    );

    -- Every board write records an event: a NOTIFY per statement tells every listening host (pg/watch.ts).
    CREATE FUNCTION kanban_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('${PG_CHANGE_CHANNEL}', '');
      RETURN NULL;
    END $$;
    CREATE TRIGGER task_events_notify AFTER INSERT ON task_events FOR EACH STATEMENT EXECUTE FUNCTION kanban_notify_change();
  `,
};

export const PG_MIGRATIONS: readonly PgMigration[] = [v1];
export const PG_SCHEMA_VERSION = PG_MIGRATIONS[PG_MIGRATIONS.length - 1]!.version;

/** The advisory lock every migrator takes (a constant: "kanban" in ASCII), so hosts starting at once migrate once. */
const MIGRATION_LOCK = 0x6b616e62616e;

/**
 * Brings the board's schema up to PG_SCHEMA_VERSION: each migration in its own transaction, under a
 * transaction-scoped advisory lock, the version read again once the lock is held (another host may
 * have migrated while this one waited). A board a newer kanban wrote is refused, unchanged. Returns
 * the versions this call applied.
 */
export async function migratePg(client: pg.ClientBase): Promise<number[]> {
  const applied: number[] = [];
  for (const migration of PG_MIGRATIONS) {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      // Under the lock: two sessions creating one table at once can collide even with IF NOT EXISTS.
      await client.query('CREATE TABLE IF NOT EXISTS kanban_schema (version integer NOT NULL)');
      const current = await schemaVersion(client);
      if (current > PG_SCHEMA_VERSION) {
        throw new Error(`this board was written by a newer kanban (schema version ${current}; this kanban knows up to ${PG_SCHEMA_VERSION}): upgrade kanban`);
      }
      if (current < migration.version) {
        await client.query(migration.sql);
        await client.query('DELETE FROM kanban_schema');
        await client.query('INSERT INTO kanban_schema (version) VALUES ($1)', [migration.version]);
        applied.push(migration.version);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }
  return applied;
}

/** The board's schema version (0: none yet). */
export async function schemaVersion(client: pg.ClientBase): Promise<number> {
  const { rows } = await client.query<{ version: number }>('SELECT max(version) AS version FROM kanban_schema');
  return rows[0]?.version ?? 0;
}
