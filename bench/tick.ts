import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseConfig } from '../src/config.js';
import { dispatchOnce } from '../src/dispatcher/tick.js';
import { resolveSettings } from '../src/settings.js';
import { openStore, type Store } from '../src/store/db.js';
import { appendEvent } from '../src/store/events.js';
import { claimTask } from '../src/store/lease.js';
import { completeTask } from '../src/store/lifecycle.js';
import { createTask } from '../src/store/tasks.js';
import { median, report } from './measure.js';

const SIZES = [1_000, 10_000, 100_000];
const TICKS = 21;
const CLAIMS = 1_000;
const TICK_TARGET_MS = 20;
const CLAIM_TARGET_RATIO = 0.5;
const config = parseConfig('profiles:\n  coder:\n    command: [agent]\n', 'bench.yaml');
const settings = resolveSettings(config, {});

/**
 * 1% ready, 1% todo (waiting on a ready parent), 1% blocked by the breaker, the rest done, each done
 * task with its history (events and a completed run), as a board looks after months of use.
 */
function buildBoard(store: Store, size: number): void {
  const open = Math.max(1, Math.floor(size / 100));
  store.writeTxn(() => {
    const ready: string[] = [];
    for (let i = 0; i < open; i++) ready.push(createTask(store, { title: `ready ${i}`, assignee: 'coder', priority: i % 3 }).task.id);
    for (let i = 0; i < open; i++) createTask(store, { title: `todo ${i}`, assignee: 'coder', parents: [ready[i]!] });
    for (let i = 0; i < open; i++) {
      const id = createTask(store, { title: `blocked ${i}`, assignee: 'coder' }).task.id;
      store.db.prepare("UPDATE tasks SET status = 'blocked', consecutive_failures = 2 WHERE id = ?").run(id);
      appendEvent(store, id, 'gave_up', { failures: 2, limit: 2, limit_source: 'default', trigger: 'crashed' });
    }
    const insertRun = store.db.prepare(
      "INSERT INTO task_runs (task_id, profile, status, claim_lock, worker_pid, started_at, ended_at, outcome, exit_code) VALUES (?, 'coder', 'ended', 'h:1:ab', 1, 0, 1, 'completed', 0)",
    );
    for (let i = 0; i < size - 3 * open; i++) {
      const id = createTask(store, { title: `done ${i}`, body: 'Context for the agent. '.repeat(4), assignee: 'coder' }).task.id;
      insertRun.run(id);
      appendEvent(store, id, 'heartbeat', { source: 'bridge' });
      completeTask(store, id, 'merged');
    }
  });
}

function tickMedian(store: Store): number {
  const times: number[] = [];
  for (let i = 0; i < TICKS; i++) {
    const started = performance.now();
    dispatchOnce(store, config, { now: () => Date.now() }, { dryRun: true, settings });
    times.push(performance.now() - started);
  }
  return median(times);
}

/** Claims per second through claimTask (a run, the task, an event, one BEGIN IMMEDIATE each). */
function claimRate(dir: string): number {
  const store = openStore(join(dir, 'claims.db'));
  const ids = store.writeTxn(() => Array.from({ length: CLAIMS }, (_, i) => createTask(store, { title: `claim me ${i}` }).task.id));
  const started = performance.now();
  for (const id of ids) claimTask(store, id, { profile: 'coder', leaseMs: 900_000 });
  const rate = CLAIMS / ((performance.now() - started) / 1000);
  store.close();
  return rate;
}

/** The same number of commits, each a BEGIN IMMEDIATE, one UPDATE, COMMIT, with the store's pragmas. */
function rawCommitRate(dir: string): number {
  const store = openStore(join(dir, 'raw.db'));
  const ids = store.writeTxn(() => Array.from({ length: CLAIMS }, (_, i) => createTask(store, { title: `raw ${i}` }).task.id));
  store.close();
  const db = new Database(join(dir, 'raw.db'));
  for (const pragma of ['journal_mode = WAL', 'synchronous = FULL', 'busy_timeout = 5000', 'foreign_keys = ON', 'secure_delete = ON', 'cell_size_check = ON']) db.pragma(pragma);
  const update = db.prepare("UPDATE tasks SET status = 'running', updated_at = ? WHERE id = ?");
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const started = performance.now();
  for (const id of ids) {
    begin.run();
    update.run(Date.now(), id);
    commit.run();
  }
  const rate = CLAIMS / ((performance.now() - started) / 1000);
  db.close();
  return rate;
}

export function benchTick(): void {
  const dir = mkdtempSync(join(tmpdir(), 'kanban-bench-tick-'));
  try {
    const rows: Array<[string, string]> = [];
    for (const size of SIZES) {
      const store = openStore(join(dir, `board-${size}.db`));
      buildBoard(store, size);
      const ms = tickMedian(store);
      store.close();
      rows.push([`${size.toLocaleString('en')} tasks`, `${ms.toFixed(2)} ms per dry-run tick${size === 100_000 ? ` (target < ${TICK_TARGET_MS} ms) ${ms < TICK_TARGET_MS ? 'ok' : 'OVER TARGET'}` : ''}`]);
    }
    report(`dispatcher tick, dry run, 1% ready / 1% todo / 1% blocked / rest done (median of ${TICKS})`, rows);
    const raw = rawCommitRate(dir);
    const claims = claimRate(dir);
    const ratio = claims / raw;
    report(`claims vs raw commits (${CLAIMS} each, WAL, synchronous=FULL)`, [
      ['raw BEGIN IMMEDIATE; UPDATE; COMMIT (baseline)', `${raw.toFixed(0)} /s`],
      ['claimTask', `${claims.toFixed(0)} /s`],
      ['ratio', `${ratio.toFixed(2)}× (target ≥ ${CLAIM_TARGET_RATIO}×) ${ratio >= CLAIM_TARGET_RATIO ? 'ok' : 'UNDER TARGET'}`],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) benchTick();
