import type Database from 'better-sqlite3';
import { RUN_OUTCOMES, STATUSES, WORKSPACE_KINDS } from '../core/types.js';

/**
 * Numbered migrations on PRAGMA user_version. Each runs in its own transaction (db.ts) and must work
 * on real old data: test/fixtures/board-v1.db is a board written by version 1 and every later
 * migration is tested on it. Never edit a migration that has shipped; add the next one.
 */
export interface Migration {
  version: number;
  up(db: Database.Database): void;
  /** Rebuilds a table that others reference: foreign keys are off around it and checked before commit. */
  rebuildsTables?: boolean;
}

const list = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');

const v1: Migration = {
  version: 1,
  up(db) {
    db.exec(`
      CREATE TABLE tasks (
        id TEXT PRIMARY KEY NOT NULL
          CHECK (id GLOB 't_[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'),
        title TEXT NOT NULL,
        body TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL CHECK (status IN (${list(STATUSES)})),
        assignee TEXT,
        priority INTEGER NOT NULL DEFAULT 0,
        claim_lock TEXT,
        claim_expires INTEGER,
        worker_pid INTEGER,
        current_run_id INTEGER,
        last_heartbeat_at INTEGER,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        max_retries INTEGER,
        max_runtime_seconds REAL,
        scheduled_until INTEGER,
        status_reason TEXT,
        summary TEXT,
        workspace_kind TEXT NOT NULL DEFAULT 'scratch' CHECK (workspace_kind IN (${list(WORKSPACE_KINDS)})),
        workspace_path TEXT,
        idempotency_key TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        started_at INTEGER,
        completed_at INTEGER
      ) STRICT;
      CREATE INDEX tasks_status ON tasks (status, priority DESC, created_at);
      CREATE INDEX tasks_assignee_status ON tasks (assignee, status);
      CREATE UNIQUE INDEX tasks_idempotency_key ON tasks (idempotency_key)
        WHERE idempotency_key IS NOT NULL AND status <> 'archived';

      CREATE TABLE task_links (
        parent_id TEXT NOT NULL REFERENCES tasks (id),
        child_id TEXT NOT NULL REFERENCES tasks (id),
        created_at INTEGER NOT NULL,
        PRIMARY KEY (parent_id, child_id),
        CHECK (parent_id <> child_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX task_links_child ON task_links (child_id, parent_id);

      CREATE TABLE task_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        task_id TEXT NOT NULL REFERENCES tasks (id),
        profile TEXT,
        status TEXT NOT NULL CHECK (status IN ('running', 'ended')),
        claim_lock TEXT NOT NULL,
        worker_pid INTEGER,
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        last_heartbeat_at INTEGER,
        outcome TEXT CHECK (outcome IS NULL OR outcome IN (${list(RUN_OUTCOMES)})),
        summary TEXT,
        error TEXT,
        exit_code INTEGER
      ) STRICT;
      CREATE INDEX task_runs_task ON task_runs (task_id, id);
      CREATE INDEX task_runs_open ON task_runs (task_id) WHERE status = 'running';

      CREATE TABLE task_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        task_id TEXT NOT NULL REFERENCES tasks (id),
        run_id INTEGER REFERENCES task_runs (id),
        kind TEXT NOT NULL,
        payload TEXT NOT NULL DEFAULT '{}',
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX task_events_task ON task_events (task_id, id);
      CREATE INDEX task_events_run ON task_events (run_id) WHERE run_id IS NOT NULL;

      CREATE TABLE task_comments (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        task_id TEXT NOT NULL REFERENCES tasks (id),
        run_id INTEGER REFERENCES task_runs (id),
        author TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX task_comments_task ON task_comments (task_id, id);
    `);
  },
};

/**
 * Runs learn who supervises them, how they ended (a signal, not only an exit code) and the length of
 * their lease, fixed at claim time so that a heartbeat extends by what the claimer chose.
 */
const v2: Migration = {
  version: 2,
  up(db) {
    db.exec(`
      ALTER TABLE task_runs ADD COLUMN supervisor_pid INTEGER;
      ALTER TABLE task_runs ADD COLUMN signal TEXT;
      ALTER TABLE task_runs ADD COLUMN lease_ms INTEGER NOT NULL DEFAULT 900000;
    `);
  },
};

/** The reaper looks for workers still alive after their run closed: recent ends only, by index. */
const v3: Migration = {
  version: 3,
  up(db) {
    db.exec('CREATE INDEX task_runs_ended_with_worker ON task_runs (ended_at) WHERE worker_pid IS NOT NULL');
  },
};

/** The board shows finished columns latest first: an index in that order, so a window is a walk, not a sort. */
const v4: Migration = {
  version: 4,
  up(db) {
    db.exec('CREATE INDEX tasks_status_updated ON tasks (status, updated_at DESC, id)');
  },
};

/**
 * Runs can end `hung` (silent past the profile's idle timeout) and `review` (finished work sent to the
 * review lane). SQLite cannot change a CHECK in place, so task_runs is rebuilt (SQLite's documented
 * twelve-step procedure, with foreign keys off around the transaction and checked inside it).
 */
const v5: Migration = {
  version: 5,
  rebuildsTables: true,
  up(db) {
    const columns =
      'id, task_id, profile, status, claim_lock, worker_pid, started_at, ended_at, last_heartbeat_at, outcome, summary, error, exit_code, supervisor_pid, signal, lease_ms';
    db.exec(`
      CREATE TABLE task_runs_v5 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        task_id TEXT NOT NULL REFERENCES tasks (id),
        profile TEXT,
        status TEXT NOT NULL CHECK (status IN ('running', 'ended')),
        claim_lock TEXT NOT NULL,
        worker_pid INTEGER,
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        last_heartbeat_at INTEGER,
        outcome TEXT CHECK (outcome IS NULL OR outcome IN (${list(RUN_OUTCOMES)})),
        summary TEXT,
        error TEXT,
        exit_code INTEGER,
        supervisor_pid INTEGER,
        signal TEXT,
        lease_ms INTEGER NOT NULL DEFAULT 900000
      ) STRICT;
      INSERT INTO task_runs_v5 (${columns}) SELECT ${columns} FROM task_runs;
    `);
    // Run ids are never reused, even those of runs since deleted: the sequence carries over.
    const seq = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'task_runs'").pluck().get() as number | undefined;
    db.exec(`
      DROP TABLE task_runs;
      ALTER TABLE task_runs_v5 RENAME TO task_runs;
      CREATE INDEX task_runs_task ON task_runs (task_id, id);
      CREATE INDEX task_runs_open ON task_runs (task_id) WHERE status = 'running';
      CREATE INDEX task_runs_ended_with_worker ON task_runs (ended_at) WHERE worker_pid IS NOT NULL;
    `);
    if (seq !== undefined) db.prepare("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'task_runs'").run(seq);
  },
};

/**
 * Named positions in task_events that a reader shares with every other process on the board: the
 * dispatchers' hooks (`hooks`) advance one in a write transaction, so each event is taken once.
 */
const v6: Migration = {
  version: 6,
  up(db) {
    db.exec(`
      CREATE TABLE event_cursors (
        name TEXT PRIMARY KEY NOT NULL,
        event_id INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
    `);
  },
};

/**
 * Run statistics (store/stats.ts) read every run and every rate-limit cooldown: covering indexes, so
 * they walk small indexes in order instead of the runs' wide rows (summaries, errors) and the events'
 * payloads. The cooldowns' index holds rate-limit events only, with their cooldown's end.
 */
const v7: Migration = {
  version: 7,
  up(db) {
    db.exec(`
      CREATE INDEX task_runs_profile_outcome ON task_runs (profile, outcome, started_at, ended_at);
      CREATE INDEX task_runs_task_time ON task_runs (task_id, started_at, ended_at);
      CREATE INDEX task_events_rate_limited ON task_events (task_id, created_at, json_extract(payload, '$.cooldown_until'))
        WHERE kind = 'rate_limited';
    `);
  },
};

/**
 * The hosts that dispatch on the board (issue 14): each tick says its host is alive, in the board's
 * time, with its boot; a host whose boot changed lost its runs' processes.
 */
const v8: Migration = {
  version: 8,
  up(db) {
    db.exec(`
      CREATE TABLE hosts (
        id TEXT PRIMARY KEY NOT NULL,
        name TEXT NOT NULL,
        boot_id TEXT NOT NULL,
        first_seen_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        booted_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
    `);
  },
};

/**
 * Comments by their run (issue 15). A new run's INSERT makes SQLite look for comments that already
 * name its id (a foreign key's parent side): without this index every claim read every comment the
 * board ever had.
 */
const v9: Migration = {
  version: 9,
  up(db) {
    db.exec('CREATE INDEX task_comments_run ON task_comments (run_id) WHERE run_id IS NOT NULL');
  },
};

/**
 * How many tasks each status has, kept by triggers (issue 15): the board's column counts (its first
 * read, and every refresh) read a row per status, not an index entry per task the board ever had.
 */
const v10: Migration = {
  version: 10,
  up(db) {
    db.exec(`
      CREATE TABLE status_counts (status TEXT PRIMARY KEY NOT NULL, n INTEGER NOT NULL) STRICT, WITHOUT ROWID;
      INSERT INTO status_counts (status, n) SELECT status, count(*) FROM tasks GROUP BY status;
      CREATE TRIGGER status_counts_insert AFTER INSERT ON tasks BEGIN
        INSERT INTO status_counts (status, n) VALUES (NEW.status, 1) ON CONFLICT (status) DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER status_counts_delete AFTER DELETE ON tasks BEGIN
        UPDATE status_counts SET n = n - 1 WHERE status = OLD.status;
      END;
      CREATE TRIGGER status_counts_update AFTER UPDATE OF status ON tasks WHEN OLD.status IS NOT NEW.status BEGIN
        UPDATE status_counts SET n = n - 1 WHERE status = OLD.status;
        INSERT INTO status_counts (status, n) VALUES (NEW.status, 1) ON CONFLICT (status) DO UPDATE SET n = n + 1;
      END;
    `);
  },
};

/**
 * Retention (issue 15, `kanban gc`): done tasks in the order they were completed (a partial index:
 * only those tasks; archived ones are walked on v4's tasks_status_updated), and a row per archived
 * task whose history was removed, which also marks where the last pass got to.
 */
const v11: Migration = {
  version: 11,
  up(db) {
    db.exec(`
      CREATE INDEX tasks_done ON tasks (completed_at, id DESC) WHERE status = 'done';
      CREATE TABLE collected_tasks (
        task_id TEXT PRIMARY KEY NOT NULL REFERENCES tasks (id),
        archived_at INTEGER NOT NULL,
        collected_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX collected_tasks_mark ON collected_tasks (archived_at, task_id DESC);
    `);
  },
};

/**
 * The board's filter (issue 15, a board of a million tasks): a trigram index of each task's title,
 * assignee and id, kept by triggers, so that a filter matching a few tasks finds them without walking
 * every one (store/board.ts). Built here for a board's tasks so far (seconds at a million).
 */
const v12: Migration = {
  version: 12,
  up(db) {
    db.exec(`
      CREATE VIRTUAL TABLE tasks_text USING fts5 (title, assignee, id, content = 'tasks', content_rowid = 'rowid', tokenize = 'trigram', detail = 'none');
      INSERT INTO tasks_text (tasks_text) VALUES ('rebuild');
      CREATE TRIGGER tasks_text_insert AFTER INSERT ON tasks BEGIN
        INSERT INTO tasks_text (rowid, title, assignee, id) VALUES (NEW.rowid, NEW.title, NEW.assignee, NEW.id);
      END;
      CREATE TRIGGER tasks_text_delete AFTER DELETE ON tasks BEGIN
        INSERT INTO tasks_text (tasks_text, rowid, title, assignee, id) VALUES ('delete', OLD.rowid, OLD.title, OLD.assignee, OLD.id);
      END;
      CREATE TRIGGER tasks_text_update AFTER UPDATE OF title, assignee, id ON tasks BEGIN
        INSERT INTO tasks_text (tasks_text, rowid, title, assignee, id) VALUES ('delete', OLD.rowid, OLD.title, OLD.assignee, OLD.id);
        INSERT INTO tasks_text (rowid, title, assignee, id) VALUES (NEW.rowid, NEW.title, NEW.assignee, NEW.id);
      END;
    `);
  },
};

export const MIGRATIONS: readonly Migration[] = [v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12];
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
