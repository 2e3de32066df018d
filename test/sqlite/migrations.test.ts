import Database from 'better-sqlite3';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.js';
import { SCHEMA_VERSION } from '../../src/store/schema.js';
import { listTasks, showTask } from '../../src/store/tasks.js';
import { completeTask } from '../../src/store/lifecycle.js';
import { tempDir } from '../helpers/board.js';
import { fixture } from '../helpers/processes.js';

const TABLES = ['tasks', 'task_links', 'task_runs', 'task_events', 'task_comments'];

function copyOfFixture(): string {
  const path = join(tempDir(), 'board.db');
  copyFileSync(fixture('board-v1.db'), path);
  return path;
}

function rows(db: Database.Database, table: string): Record<string, unknown>[] {
  return db.prepare(`SELECT * FROM ${table} ORDER BY 1, 2`).all() as Record<string, unknown>[];
}

/** The schema as SQLite reports it, whitespace folded, so a fresh and a migrated board compare. */
function schemaOf(db: Database.Database): string[] {
  return (db.prepare("SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").pluck().all() as string[]).map(
    (s) => s.replace(/\s+/g, ' '),
  );
}

describe('migrations from the version-1 fixture', () => {
  it('the fixture is still a version-1 board', () => {
    const db = new Database(copyOfFixture(), { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    db.close();
  });

  it('brings it to the current version with every old row intact', () => {
    const path = copyOfFixture();
    const raw = new Database(path, { readonly: true });
    const before = Object.fromEntries(TABLES.map((t) => [t, rows(raw, t)]));
    raw.close();

    const store = openStore(path);
    expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    for (const table of TABLES) {
      const after = rows(store.db, table);
      expect(after).toHaveLength(before[table]!.length);
      // New columns may appear; every old column keeps its value.
      after.forEach((row, i) => expect(row).toMatchObject(before[table]![i]!));
    }
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(store.db.pragma('foreign_key_check')).toEqual([]);
    store.close();
  });

  it('ends with the same schema as a board created new', () => {
    const migrated = openStore(copyOfFixture());
    const fresh = openStore(join(tempDir(), 'board.db'));
    expect(schemaOf(migrated.db)).toEqual(schemaOf(fresh.db));
    migrated.close();
    fresh.close();
  });

  it('leaves a board the current code can work on', () => {
    const store = openStore(copyOfFixture());
    const byTitle = new Map(listTasks(store, { statuses: ['triage', 'todo', 'ready', 'running', 'blocked', 'scheduled', 'done', 'archived'] }).map((t) => [t.title, t]));
    expect([...byTitle.values()].map((t) => t.status).sort()).toEqual(
      ['archived', 'blocked', 'done', 'ready', 'ready', 'ready', 'running', 'scheduled', 'todo', 'todo', 'triage'].sort(),
    );
    const running = showTask(store, byTitle.get('running task')!.id);
    expect(running.runs.map((r) => r.outcome)).toEqual(['crashed', null]);
    expect(byTitle.get('blocked task')).toMatchObject({ consecutive_failures: 2, status_reason: 'needs credentials', max_retries: 3 });
    const openParent = byTitle.get('open parent')!;
    completeTask(store, openParent.id);
    expect(listTasks(store).find((t) => t.title === 'todo child')!.status).toBe('ready');
    store.close();
  });

  it('lets an old board record the new outcomes (hung, review) and never reuses a run id', () => {
    const path = copyOfFixture();
    const raw = new Database(path, { readonly: true });
    const lastRunId = raw.prepare('SELECT max(id) FROM task_runs').pluck().get() as number;
    raw.close();
    const old = new Database(path);
    expect(() => old.prepare("UPDATE task_runs SET outcome = 'hung' WHERE id = ?").run(lastRunId)).toThrow(/CHECK constraint/);
    old.close();

    const store = openStore(path);
    store.db.prepare("UPDATE task_runs SET outcome = 'hung' WHERE id = ?").run(lastRunId);
    store.db.prepare("UPDATE task_runs SET outcome = 'review' WHERE id = ?").run(lastRunId);
    const task = listTasks(store).find((t) => t.title === 'ready task')!;
    const inserted = store.db
      .prepare("INSERT INTO task_runs (task_id, status, claim_lock, started_at) VALUES (?, 'running', 'h:1:ab', 0) RETURNING id")
      .pluck()
      .get(task.id) as number;
    expect(inserted).toBeGreaterThan(lastRunId);
    store.close();
  });
});
