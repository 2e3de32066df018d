import type pg from 'pg';
import { BoardUnusable } from '../errors.js';
import { FINISHED_SQL } from '../core/sql.js';
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

/**
 * The advisory lock a claim takes (pg/lease.ts, kanban_claim): exclusive with caps, so that claims at
 * a cap count one at a time ("kbcaps" in ASCII).
 */
export const CLAIM_CAP_LOCK = 0x6b6263617073;

/** Where an event's provisional id starts (2^52: above any committed id, still a safe integer in JS). */
const PROVISIONAL_EVENT_ID = 2 ** 52;
/** The advisory lock under which events get their ids at commit ("kevent" in ASCII). */
const EVENT_ORDER_LOCK = 0x6b6576656e74;

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

    -- Event ids in commit order: a follower that keeps the last id it saw (events --follow, the hooks'
    -- cursor, the watch) must never meet a lower id committed later, which sequences alone allow (an
    -- id is handed out at INSERT, and transactions commit in any order). So an event's id is
    -- provisional until its transaction commits (above 2^52, the newest last within the transaction),
    -- and a deferred trigger, run at COMMIT after every other lock the transaction takes (so it cannot
    -- deadlock), numbers it from task_events_order under a transaction-scoped advisory lock held until
    -- the commit is visible: ids are handed out in the order transactions commit.
    CREATE SEQUENCE task_events_provisional;
    CREATE SEQUENCE task_events_order;
    CREATE TABLE task_events (
      id bigint PRIMARY KEY DEFAULT (${PROVISIONAL_EVENT_ID} + nextval('task_events_provisional')),
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

    -- The runs' output, shipped by their supervisors so that every host can read it (pg/logs.ts).
    CREATE TABLE run_logs (
      id bigserial PRIMARY KEY,
      task_id text NOT NULL REFERENCES tasks (id),
      run_id bigint NOT NULL REFERENCES task_runs (id),
      text text NOT NULL,
      bytes integer NOT NULL,
      created_at bigint NOT NULL
    );
    CREATE INDEX run_logs_task ON run_logs (task_id, id);
    CREATE INDEX run_logs_run ON run_logs (run_id, id);

    CREATE TABLE hosts (
      id text PRIMARY KEY,
      name text NOT NULL,
      boot_id text NOT NULL,
      first_seen_at bigint NOT NULL,
      last_seen_at bigint NOT NULL,
      booted_at bigint NOT NULL
    );

    CREATE FUNCTION kanban_order_event() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_advisory_xact_lock(${EVENT_ORDER_LOCK});
      UPDATE task_events SET id = nextval('task_events_order') WHERE id = NEW.id;
      RETURN NULL;
    END $$;
    CREATE CONSTRAINT TRIGGER task_events_commit_order AFTER INSERT ON task_events
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION kanban_order_event();

    -- Every board write records an event: a NOTIFY per statement tells every listening host (pg/watch.ts).
    CREATE FUNCTION kanban_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('${PG_CHANGE_CHANNEL}', '');
      RETURN NULL;
    END $$;
    CREATE TRIGGER task_events_notify AFTER INSERT ON task_events FOR EACH STATEMENT EXECUTE FUNCTION kanban_notify_change();

    -- The hot paths (pg/lease.ts): each one function called by one SELECT in autocommit, one round
    -- trip, at READ COMMITTED, where every statement inside sees what committed before it began. A
    -- run's task is locked before its run (the lock order of every transition). FOR NO KEY UPDATE, the
    -- lock an UPDATE of the row takes: inserting a task's events, runs or links (foreign keys, KEY
    -- SHARE) never waits on it. Each answers json: the rows as row_to_json gives them (columns in
    -- table order), and what it decided, which pg/lease.ts puts in core/run.ts's words.

    -- A hot path's time: a test's injected clock, else the database's (epoch ms), read once the locks
    -- are held, so that a lease starts when it is taken.
    CREATE FUNCTION kanban_now_ms(injected bigint) RETURNS bigint LANGUAGE sql VOLATILE AS $$
      SELECT coalesce(injected, (extract(epoch from clock_timestamp()) * 1000)::bigint)
    $$;

    -- ready → running, as store/lease.ts claimTask. The task's row is taken SKIP LOCKED (a claimer
    -- never queues behind another: a row someone holds is 'locked'). With caps, the count is read
    -- under an exclusive advisory lock held to commit, so claims at a cap run one at a time and each
    -- counts every claim committed before it; a claim without caps takes it shared, so it never slips
    -- in between a capped claim's count and its commit.
    CREATE FUNCTION kanban_claim(p_task text, p_profile text, p_lease_ms bigint, p_claim_lock text, p_now bigint, p_cap_board integer, p_cap_profile integer)
    RETURNS json LANGUAGE plpgsql AS $$
    DECLARE
      v_task tasks;
      v_run task_runs;
      v_now bigint;
      v_count bigint;
      v_parent record;
    BEGIN
      SELECT * INTO v_task FROM tasks WHERE id = p_task FOR NO KEY UPDATE SKIP LOCKED;
      IF NOT FOUND THEN
        SELECT * INTO v_task FROM tasks WHERE id = p_task;
        IF NOT FOUND THEN RETURN json_build_object('result', 'missing'); END IF;
        RETURN json_build_object('result', 'locked', 'task', row_to_json(v_task));
      END IF;
      IF v_task.status <> 'ready' OR v_task.claim_lock IS NOT NULL THEN
        RETURN json_build_object('result', 'refused', 'task', row_to_json(v_task));
      END IF;
      IF p_cap_board IS NULL THEN
        PERFORM pg_advisory_xact_lock_shared(${CLAIM_CAP_LOCK});
      ELSE
        PERFORM pg_advisory_xact_lock(${CLAIM_CAP_LOCK});
        SELECT count(*) INTO v_count FROM tasks WHERE status = 'running';
        IF v_count >= p_cap_board THEN
          RETURN json_build_object('result', 'at_cap', 'at_cap', 'board', 'task', row_to_json(v_task));
        END IF;
        IF p_cap_profile IS NOT NULL AND p_profile IS NOT NULL THEN
          SELECT count(*) INTO v_count FROM tasks WHERE status = 'running' AND assignee = p_profile;
          IF v_count >= p_cap_profile THEN
            RETURN json_build_object('result', 'at_cap', 'at_cap', 'profile', 'task', row_to_json(v_task));
          END IF;
        END IF;
      END IF;
      SELECT p.id, p.status INTO v_parent FROM task_links l JOIN tasks p ON p.id = l.parent_id
        WHERE l.child_id = p_task AND p.status NOT IN ${FINISHED_SQL} ORDER BY p.id LIMIT 1;
      -- A parent unfinished: back to todo, unless a person promoted it with --force since it last ran.
      IF FOUND AND NOT EXISTS (
        SELECT 1 FROM task_events WHERE task_id = p_task AND kind = 'promoted_manual' AND (payload ->> 'forced')::boolean IS TRUE
          AND id > coalesce((SELECT max(id) FROM task_events WHERE task_id = p_task AND kind = 'claimed'), 0)
      ) THEN
        v_now := kanban_now_ms(p_now);
        UPDATE tasks SET status = 'todo', updated_at = v_now WHERE id = p_task RETURNING * INTO v_task;
        INSERT INTO task_events (task_id, run_id, kind, payload, created_at)
          VALUES (p_task, NULL, 'demoted', jsonb_build_object('from', 'ready', 'to', 'todo', 'unfinished_parents',
            (SELECT jsonb_agg(p.id ORDER BY p.id) FROM task_links l JOIN tasks p ON p.id = l.parent_id
              WHERE l.child_id = p_task AND p.status NOT IN ${FINISHED_SQL})), v_now);
        RETURN json_build_object('result', 'demoted', 'task', row_to_json(v_task), 'parent', json_build_object('id', v_parent.id, 'status', v_parent.status));
      END IF;
      v_now := kanban_now_ms(p_now);
      INSERT INTO task_runs (task_id, profile, status, claim_lock, started_at, lease_ms)
        VALUES (p_task, p_profile, 'running', p_claim_lock, v_now, p_lease_ms) RETURNING * INTO v_run;
      UPDATE tasks SET status = 'running', claim_lock = p_claim_lock, claim_expires = v_now + p_lease_ms, current_run_id = v_run.id,
          worker_pid = NULL, last_heartbeat_at = NULL, started_at = v_now, updated_at = v_now
        WHERE id = p_task RETURNING * INTO v_task;
      INSERT INTO task_events (task_id, run_id, kind, payload, created_at)
        VALUES (p_task, v_run.id, 'claimed', jsonb_build_object('run_id', v_run.id, 'profile', p_profile, 'claim_expires', v_now + p_lease_ms, 'lease_ms', p_lease_ms), v_now);
      RETURN json_build_object('result', 'claimed', 'task', row_to_json(v_task), 'run', row_to_json(v_run));
    END $$;

    -- The run's liveness, as store/lease.ts heartbeat: the lease moved to now + the run's lease on the
    -- task, the heartbeat on the task and the run, a heartbeat event. NULL: this run does not hold
    -- the task (nothing written).
    CREATE FUNCTION kanban_heartbeat(p_task text, p_run bigint, p_claim_lock text, p_now bigint, p_source text, p_note text)
    RETURNS json LANGUAGE plpgsql AS $$
    DECLARE
      v_task tasks;
      v_lease bigint;
      v_now bigint;
    BEGIN
      PERFORM 1 FROM tasks WHERE id = p_task AND status = 'running' AND current_run_id = p_run AND claim_lock = p_claim_lock FOR NO KEY UPDATE;
      IF NOT FOUND THEN RETURN NULL; END IF;
      SELECT lease_ms INTO v_lease FROM task_runs WHERE id = p_run AND task_id = p_task AND claim_lock = p_claim_lock AND status = 'running';
      IF NOT FOUND THEN RETURN NULL; END IF;
      v_now := kanban_now_ms(p_now);
      UPDATE tasks SET claim_expires = v_now + v_lease, last_heartbeat_at = v_now, updated_at = v_now WHERE id = p_task RETURNING * INTO v_task;
      UPDATE task_runs SET last_heartbeat_at = v_now WHERE id = p_run;
      INSERT INTO task_events (task_id, run_id, kind, payload, created_at)
        VALUES (p_task, p_run, 'heartbeat', jsonb_build_object('source', p_source, 'claim_expires', v_now + v_lease)
          || CASE WHEN p_note IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('note', p_note) END, v_now);
      RETURN row_to_json(v_task);
    END $$;

    -- The dispatcher extends a run's lease, as store/lease.ts extendClaim: a compare-and-set on the
    -- lease it judged ('moved' when it moved since; 'not_owner' when the run no longer holds the task).
    CREATE FUNCTION kanban_extend(p_task text, p_run bigint, p_claim_lock text, p_expected bigint, p_payload jsonb, p_now bigint)
    RETURNS json LANGUAGE plpgsql AS $$
    DECLARE
      v_task tasks;
      v_lease bigint;
      v_now bigint;
    BEGIN
      SELECT * INTO v_task FROM tasks WHERE id = p_task AND status = 'running' AND current_run_id = p_run AND claim_lock = p_claim_lock FOR NO KEY UPDATE;
      IF NOT FOUND THEN RETURN json_build_object('result', 'not_owner'); END IF;
      IF v_task.claim_expires IS DISTINCT FROM p_expected THEN RETURN json_build_object('result', 'moved'); END IF;
      SELECT lease_ms INTO v_lease FROM task_runs WHERE id = p_run AND task_id = p_task AND claim_lock = p_claim_lock AND status = 'running';
      IF NOT FOUND THEN RETURN json_build_object('result', 'not_owner'); END IF;
      v_now := kanban_now_ms(p_now);
      UPDATE tasks SET claim_expires = v_now + v_lease, updated_at = v_now WHERE id = p_task RETURNING * INTO v_task;
      INSERT INTO task_events (task_id, run_id, kind, payload, created_at)
        VALUES (p_task, p_run, 'claim_extended', p_payload || jsonb_build_object('previous', p_expected, 'claim_expires', v_now + v_lease), v_now);
      RETURN json_build_object('result', 'extended', 'task', row_to_json(v_task));
    END $$;

    -- A run's supervisor renews its own lease, as store/lease.ts renewLease: only while the run was
    -- heard from (its last heartbeat, else its start) within p_max_stale_ms of the database's now.
    CREATE FUNCTION kanban_renew(p_task text, p_run bigint, p_claim_lock text, p_max_stale_ms bigint, p_now bigint)
    RETURNS json LANGUAGE plpgsql AS $$
    DECLARE
      v_task tasks;
      v_lease bigint;
      v_now bigint;
    BEGIN
      SELECT * INTO v_task FROM tasks WHERE id = p_task AND status = 'running' AND current_run_id = p_run AND claim_lock = p_claim_lock FOR NO KEY UPDATE;
      IF NOT FOUND THEN RETURN json_build_object('result', 'not_owner'); END IF;
      SELECT lease_ms INTO v_lease FROM task_runs WHERE id = p_run AND task_id = p_task AND claim_lock = p_claim_lock AND status = 'running';
      IF NOT FOUND THEN RETURN json_build_object('result', 'not_owner'); END IF;
      v_now := kanban_now_ms(p_now);
      IF coalesce(v_task.last_heartbeat_at, v_task.started_at) < v_now - p_max_stale_ms THEN
        RETURN json_build_object('result', 'silent', 'task', row_to_json(v_task));
      END IF;
      UPDATE tasks SET claim_expires = v_now + v_lease, updated_at = v_now WHERE id = p_task RETURNING * INTO v_task;
      INSERT INTO task_events (task_id, run_id, kind, payload, created_at)
        VALUES (p_task, p_run, 'claim_extended', jsonb_build_object('source', 'supervisor', 'claim_expires', v_now + v_lease), v_now);
      RETURN json_build_object('result', 'renewed', 'task', row_to_json(v_task));
    END $$;
  `,
};

/**
 * Retention (issue 15, `kanban gc`), as SQLite's v11: done tasks in the order they were completed
 * (archived ones are walked on v1's tasks_status_updated), a row per archived task whose history was removed
 * (which also marks where the last pass got to); and comments by their run, which a run's removal
 * looks up (SQLite's v9).
 */
const v2: PgMigration = {
  version: 2,
  sql: `
    CREATE INDEX tasks_done ON tasks (completed_at, id DESC) WHERE status = 'done';
    CREATE INDEX task_comments_run ON task_comments (run_id) WHERE run_id IS NOT NULL;
    CREATE TABLE collected_tasks (
      task_id text PRIMARY KEY REFERENCES tasks (id),
      archived_at bigint NOT NULL,
      collected_at bigint NOT NULL
    );
    CREATE INDEX collected_tasks_mark ON collected_tasks (archived_at, task_id DESC);
  `,
};

/**
 * The claim of the first of several candidates, in one call (issue 15: dispatchers that read the same
 * ready queue passed each other's tasks one round trip at a time, and the one behind rarely caught
 * up). kanban_claim gains p_assign (a task to be given the default assignee gets it in the claim's
 * transaction) and answers a task it may not claim, as last committed, without taking its row lock
 * (a running task's heartbeat never waits on a claimer passing it over); v1's signature stays, for
 * hosts still running the kanban before.
 */
const v3: PgMigration = {
  version: 3,
  sql: `
    -- ready → running, as store/lease.ts claimTask (and claimReady). v1's claim, and: a task read as
    -- not claimable (or, with p_assign, as assigned) is answered 'refused' from what last committed,
    -- no lock taken; one another transaction holds is 'locked' (SKIP LOCKED: a claimer never queues);
    -- the row, once locked, is checked again (it may have moved between the read and the lock).
    CREATE FUNCTION kanban_claim(p_task text, p_profile text, p_assign boolean, p_lease_ms bigint, p_claim_lock text, p_now bigint, p_cap_board integer, p_cap_profile integer)
    RETURNS json LANGUAGE plpgsql AS $$
    DECLARE
      v_seen tasks;
      v_task tasks;
      v_run task_runs;
      v_now bigint;
      v_count bigint;
      v_parent record;
    BEGIN
      SELECT * INTO v_seen FROM tasks WHERE id = p_task;
      IF NOT FOUND THEN RETURN json_build_object('result', 'missing'); END IF;
      IF v_seen.status <> 'ready' OR v_seen.claim_lock IS NOT NULL OR (p_assign AND v_seen.assignee IS NOT NULL) THEN
        RETURN json_build_object('result', 'refused', 'task', row_to_json(v_seen));
      END IF;
      SELECT * INTO v_task FROM tasks WHERE id = p_task FOR NO KEY UPDATE SKIP LOCKED;
      IF NOT FOUND THEN RETURN json_build_object('result', 'locked', 'task', row_to_json(v_seen)); END IF;
      IF v_task.status <> 'ready' OR v_task.claim_lock IS NOT NULL OR (p_assign AND v_task.assignee IS NOT NULL) THEN
        RETURN json_build_object('result', 'refused', 'task', row_to_json(v_task));
      END IF;
      IF p_cap_board IS NULL THEN
        PERFORM pg_advisory_xact_lock_shared(${CLAIM_CAP_LOCK});
      ELSE
        PERFORM pg_advisory_xact_lock(${CLAIM_CAP_LOCK});
        SELECT count(*) INTO v_count FROM tasks WHERE status = 'running';
        IF v_count >= p_cap_board THEN
          RETURN json_build_object('result', 'at_cap', 'at_cap', 'board', 'task', row_to_json(v_task));
        END IF;
        IF p_cap_profile IS NOT NULL AND p_profile IS NOT NULL THEN
          SELECT count(*) INTO v_count FROM tasks WHERE status = 'running' AND assignee = p_profile;
          IF v_count >= p_cap_profile THEN
            RETURN json_build_object('result', 'at_cap', 'at_cap', 'profile', 'task', row_to_json(v_task));
          END IF;
        END IF;
      END IF;
      SELECT p.id, p.status INTO v_parent FROM task_links l JOIN tasks p ON p.id = l.parent_id
        WHERE l.child_id = p_task AND p.status NOT IN ${FINISHED_SQL} ORDER BY p.id LIMIT 1;
      -- A parent unfinished: back to todo, unless a person promoted it with --force since it last ran.
      IF FOUND AND NOT EXISTS (
        SELECT 1 FROM task_events WHERE task_id = p_task AND kind = 'promoted_manual' AND (payload ->> 'forced')::boolean IS TRUE
          AND id > coalesce((SELECT max(id) FROM task_events WHERE task_id = p_task AND kind = 'claimed'), 0)
      ) THEN
        v_now := kanban_now_ms(p_now);
        UPDATE tasks SET status = 'todo', updated_at = v_now WHERE id = p_task RETURNING * INTO v_task;
        INSERT INTO task_events (task_id, run_id, kind, payload, created_at)
          VALUES (p_task, NULL, 'demoted', jsonb_build_object('from', 'ready', 'to', 'todo', 'unfinished_parents',
            (SELECT jsonb_agg(p.id ORDER BY p.id) FROM task_links l JOIN tasks p ON p.id = l.parent_id
              WHERE l.child_id = p_task AND p.status NOT IN ${FINISHED_SQL})), v_now);
        RETURN json_build_object('result', 'demoted', 'task', row_to_json(v_task), 'parent', json_build_object('id', v_parent.id, 'status', v_parent.status));
      END IF;
      v_now := kanban_now_ms(p_now);
      IF p_assign THEN
        UPDATE tasks SET assignee = p_profile, updated_at = v_now WHERE id = p_task;
        INSERT INTO task_events (task_id, run_id, kind, payload, created_at)
          VALUES (p_task, NULL, 'assigned', jsonb_build_object('from', NULL, 'to', p_profile, 'source', 'default_assignee'), v_now);
      END IF;
      INSERT INTO task_runs (task_id, profile, status, claim_lock, started_at, lease_ms)
        VALUES (p_task, p_profile, 'running', p_claim_lock, v_now, p_lease_ms) RETURNING * INTO v_run;
      UPDATE tasks SET status = 'running', claim_lock = p_claim_lock, claim_expires = v_now + p_lease_ms, current_run_id = v_run.id,
          worker_pid = NULL, last_heartbeat_at = NULL, started_at = v_now, updated_at = v_now
        WHERE id = p_task RETURNING * INTO v_task;
      INSERT INTO task_events (task_id, run_id, kind, payload, created_at)
        VALUES (p_task, v_run.id, 'claimed', jsonb_build_object('run_id', v_run.id, 'profile', p_profile, 'claim_expires', v_now + p_lease_ms, 'lease_ms', p_lease_ms), v_now);
      RETURN json_build_object('result', 'claimed', 'task', row_to_json(v_task), 'run', row_to_json(v_run));
    END $$;

    -- v1's signature, for a host still running the kanban before this one (the schema's version is
    -- read only when a board is opened): the claim above, without a default assignee.
    CREATE OR REPLACE FUNCTION kanban_claim(p_task text, p_profile text, p_lease_ms bigint, p_claim_lock text, p_now bigint, p_cap_board integer, p_cap_profile integer)
    RETURNS json LANGUAGE sql AS $$
      SELECT kanban_claim(p_task, p_profile, false, p_lease_ms, p_claim_lock, p_now, p_cap_board, p_cap_profile)
    $$;

    -- The first of the candidates (arrays of one length, in order) that can be claimed, as
    -- store/lease.ts claimFirst: one missing, locked or refused is passed over; the first other answer
    -- is the answer, else the last one passed over (NULL: no candidates).
    CREATE FUNCTION kanban_claim_first(p_tasks text[], p_profiles text[], p_assign boolean[], p_cap_boards integer[], p_cap_profiles integer[], p_lease_ms bigint, p_claim_lock text, p_now bigint)
    RETURNS json LANGUAGE plpgsql AS $$
    DECLARE
      v_answer json;
    BEGIN
      FOR i IN 1 .. coalesce(array_length(p_tasks, 1), 0) LOOP
        v_answer := kanban_claim(p_tasks[i], p_profiles[i], p_assign[i], p_lease_ms, p_claim_lock, p_now, p_cap_boards[i], p_cap_profiles[i]);
        IF v_answer ->> 'result' NOT IN ('missing', 'locked', 'refused') THEN RETURN v_answer; END IF;
      END LOOP;
      RETURN v_answer;
    END $$;
  `,
};

export const PG_MIGRATIONS: readonly PgMigration[] = [v1, v2, v3];
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
        throw new BoardUnusable(`this board was written by a newer kanban (schema version ${current}; this kanban knows up to ${PG_SCHEMA_VERSION}): upgrade kanban`);
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
