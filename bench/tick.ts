import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseConfig } from '../src/config.js';
import { dispatchOnce } from '../src/dispatcher/tick.js';
import { resolveSettings } from '../src/settings.js';
import { openStore, type Store } from '../src/store/db.js';
import { claimTask, completeRun, heartbeat, recordFailedRun } from '../src/store/lease.js';
import { SqliteBoard } from '../src/store/sqlite-board.js';
import { createTask } from '../src/store/tasks.js';
import { median, report } from './measure.js';

const SIZES = [1_000, 10_000, 100_000];
const TICKS = 21;
const CLAIMS = 1_000;
const TICK_TARGET_MS = 20;
const CLAIM_TARGET_RATIO = 0.9; // issue 15 (it was 0.5)
const config = parseConfig('profiles:\n  coder:\n    command: [agent]\n', 'bench.yaml');
const settings = resolveSettings(config, {});

/**
 * 1% ready, 1% todo (waiting on a ready parent), 1% blocked by the breaker, the rest done, each done
 * task with its history (a run claimed, heard from and completed), as a board looks after months of
 * use: made by the store's own transitions.
 */
function buildBoard(store: Store, size: number): void {
  const open = Math.max(1, Math.floor(size / 100));
  const claim = (id: string) => {
    const result = claimTask(store, id, { profile: 'coder', leaseMs: 900_000 });
    if (!result.claimed) throw new Error(`bench setup: could not claim ${id}: ${result.reason}`);
    return result.identity;
  };
  store.writeTxn(() => {
    const ready: string[] = [];
    for (let i = 0; i < open; i++) ready.push(createTask(store, { title: `ready ${i}`, assignee: 'coder', priority: i % 3 }).task.id);
    for (let i = 0; i < open; i++) createTask(store, { title: `todo ${i}`, assignee: 'coder', parents: [ready[i]!] });
    for (let i = 0; i < open; i++) {
      const id = createTask(store, { title: `blocked ${i}`, assignee: 'coder' }).task.id;
      for (let crash = 0; crash < 2; crash++) recordFailedRun(store, claim(id), 'crashed', 'bench', { limit: 2, limitSource: 'default' }); // the breaker: gave_up
    }
    for (let i = 0; i < size - 3 * open; i++) {
      const id = createTask(store, { title: `done ${i}`, body: 'Context for the agent. '.repeat(4), assignee: 'coder' }).task.id;
      const run = claim(id);
      heartbeat(store, run, { source: 'bridge' });
      completeRun(store, run, 'merged');
    }
  });
}

async function tickMedian(board: SqliteBoard): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < TICKS; i++) {
    const started = performance.now();
    await dispatchOnce(board, config, { now: () => Date.now() }, { dryRun: true, settings });
    times.push(performance.now() - started);
  }
  return median(times);
}

/** How many claims each way takes in turn, so that machine noise falls on all of them alike. */
const CLAIM_ROUND = 50;

/**
 * Claims per second three ways, interleaved in rounds of CLAIM_ROUND: the baseline (a raw BEGIN
 * IMMEDIATE, one UPDATE, COMMIT, with the store's pragmas), claimTask on the synchronous store (a
 * run, the task, an event), and a claim through the asynchronous board port (SqliteBoard).
 */
async function claimRates(dir: string): Promise<{ raw: number; rows: number; store: number; port: number }> {
  const board = (name: string) => {
    const store = openStore(join(dir, `${name}.db`));
    const ids = store.writeTxn(() => Array.from({ length: CLAIMS }, (_, i) => createTask(store, { title: `${name} ${i}` }).task.id));
    store.close();
    return ids;
  };
  const rawIds = board('raw');
  const rowsIds = board('rows');
  const storeIds = board('store');
  const portIds = board('port');
  const bare = (name: string) => {
    const db = new Database(join(dir, `${name}.db`));
    for (const pragma of ['journal_mode = WAL', 'synchronous = FULL', 'busy_timeout = 5000', 'foreign_keys = ON', 'secure_delete = ON', 'cell_size_check = ON']) db.pragma(pragma);
    return db;
  };
  const db = bare('raw');
  const update = db.prepare("UPDATE tasks SET status = 'running', updated_at = ? WHERE id = ?");
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  // The rows a claim writes, in bare SQL on the same schema (its indexes and triggers): a run, the task, an event; no reads, no checks.
  const rowsDb = bare('rows');
  const insertRun = rowsDb.prepare("INSERT INTO task_runs (task_id, profile, status, claim_lock, started_at, lease_ms) VALUES (?, 'coder', 'running', 'lock', ?, 900000)");
  const updateTask = rowsDb.prepare(
    "UPDATE tasks SET status = 'running', claim_lock = 'lock', claim_expires = ?, current_run_id = ?, worker_pid = NULL, last_heartbeat_at = NULL, started_at = ?, updated_at = ? WHERE id = ?",
  );
  const insertEvent = rowsDb.prepare("INSERT INTO task_events (task_id, run_id, kind, payload, created_at) VALUES (?, ?, 'claimed', '{}', ?)");
  const claimRows = rowsDb.transaction((id: string, now: number) => {
    const run = insertRun.run(id, now);
    updateTask.run(now + 900_000, run.lastInsertRowid, now, now, id);
    insertEvent.run(id, run.lastInsertRowid, now);
  });
  const store = openStore(join(dir, 'store.db'));
  const port = SqliteBoard.open(join(dir, 'port.db'));
  const spent = { raw: 0, rows: 0, store: 0, port: 0 };
  try {
    for (let at = 0; at < CLAIMS; at += CLAIM_ROUND) {
      let started = performance.now();
      for (const id of rawIds.slice(at, at + CLAIM_ROUND)) {
        begin.run();
        update.run(Date.now(), id);
        commit.run();
      }
      spent.raw += performance.now() - started;
      started = performance.now();
      for (const id of rowsIds.slice(at, at + CLAIM_ROUND)) claimRows.immediate(id, Date.now());
      spent.rows += performance.now() - started;
      started = performance.now();
      for (const id of storeIds.slice(at, at + CLAIM_ROUND)) claimTask(store, id, { profile: 'coder', leaseMs: 900_000 });
      spent.store += performance.now() - started;
      started = performance.now();
      for (const id of portIds.slice(at, at + CLAIM_ROUND)) await port.lease.claim(id, { profile: 'coder', leaseMs: 900_000 });
      spent.port += performance.now() - started;
    }
  } finally {
    db.close();
    rowsDb.close();
    store.close();
    await port.close();
  }
  const rate = (ms: number) => CLAIMS / (ms / 1000);
  return { raw: rate(spent.raw), rows: rate(spent.rows), store: rate(spent.store), port: rate(spent.port) };
}

export async function benchTick(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kanban-bench-tick-'));
  try {
    const rows: Array<[string, string]> = [];
    for (const size of SIZES) {
      const store = openStore(join(dir, `board-${size}.db`));
      buildBoard(store, size);
      store.close();
      const board = SqliteBoard.open(join(dir, `board-${size}.db`), { checkIntegrity: false });
      const ms = await tickMedian(board);
      await board.close();
      rows.push([`${size.toLocaleString('en')} tasks`, `${ms.toFixed(2)} ms per dry-run tick${size === 100_000 ? ` (target < ${TICK_TARGET_MS} ms) ${ms < TICK_TARGET_MS ? 'ok' : 'OVER TARGET'}` : ''}`]);
    }
    report(`dispatcher tick, dry run, 1% ready / 1% todo / 1% blocked / rest done (median of ${TICKS})`, rows);
    const rates = await claimRates(dir);
    const ratio = rates.store / rates.raw;
    const portRatio = rates.port / rates.raw;
    report(`claims vs raw commits (${CLAIMS} each, interleaved in rounds of ${CLAIM_ROUND}, WAL, synchronous=FULL)`, [
      ['raw BEGIN IMMEDIATE; UPDATE; COMMIT (baseline)', `${rates.raw.toFixed(0)} /s`],
      ['claimTask (the store)', `${rates.store.toFixed(0)} /s`],
      ['ratio', `${ratio.toFixed(2)}× (target ≥ ${CLAIM_TARGET_RATIO}×) ${ratio >= CLAIM_TARGET_RATIO ? 'ok' : 'UNDER TARGET'}`],
      ['board.lease.claim (the port)', `${rates.port.toFixed(0)} /s`],
      ['ratio', `${portRatio.toFixed(2)}× (target ≥ ${CLAIM_TARGET_RATIO}×) ${portRatio >= CLAIM_TARGET_RATIO ? 'ok' : 'UNDER TARGET'}; port vs store ${(rates.port / rates.store).toFixed(2)}×`],
      ['floor: a claim\'s rows (run, task, event) in bare SQL', `${rates.rows.toFixed(0)} /s: ${(rates.rows / rates.raw).toFixed(2)}× the raw loop, the least writing what a claim must costs`],
      ['claimTask ÷ floor', `${(rates.store / rates.rows).toFixed(2)}×: the claim's own reads and checks (the task, the caps, its parents)`],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) await benchTick();
