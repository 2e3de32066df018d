import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { GcPass, MAX_BATCH_MS } from '../src/gc.js';
import { openStore } from '../src/store/db.js';
import { addComment } from '../src/store/comments.js';
import { claimTask, recordExit } from '../src/store/lease.js';
import { archiveTask, completeTask } from '../src/store/lifecycle.js';
import { SqliteBoard } from '../src/store/sqlite-board.js';
import { createTask } from '../src/store/tasks.js';
import { percentile, report } from './measure.js';

/**
 * Issue 15's retention goal: `kanban gc` on a board with a long history never holds the board for
 * more than ~50 ms at a time. A writer on another thread (its own connection, as another process
 * would be) commits small transactions the whole time; its latency while gc runs is compared with its
 * latency while the board is idle, measured in the same run just before and just after.
 */
const ARCHIVED = Number(process.env.KANBAN_BENCH_GC_TASKS ?? 10_000);
const OPEN = 1_000;
const DAY = 86_400_000;
const IDLE_MS = 3_000;
/** The writer commits about this often (a busy board: a few hundred writes a second). */
const WRITER_PAUSE_MS = 5;

function buildBoard(path: string): void {
  let now = Date.now() - 60 * DAY;
  const clock = { now: () => now };
  const store = openStore(path, { clock });
  try {
    const failures = { limit: 1_000, limitSource: 'bench' };
    store.writeTxn(() => {
      for (let i = 0; i < ARCHIVED; i++) {
        const { task } = createTask(store, { title: `Old task ${i}`, body: 'Context for the agent. '.repeat(8) });
        for (let r = 0; r < 3; r++) {
          const claim = claimTask(store, task.id, { profile: null, leaseMs: 900_000 });
          if (!claim.claimed) throw new Error(claim.reason);
          recordExit(store, claim.identity, { exitCode: 1, signal: null, failures });
        }
        addComment(store, task.id, 'A note from a person. '.repeat(10));
        addComment(store, task.id, 'Another one. '.repeat(10));
        completeTask(store, task.id, 'done');
        archiveTask(store, task.id);
        now += 100;
      }
      now = Date.now();
      for (let i = 0; i < OPEN; i++) createTask(store, { title: `Open task ${i}` });
    });
  } finally {
    store.close();
  }
}

/** The writer: a small write transaction every WRITER_PAUSE_MS on its own connection, each one's latency (lock wait included) in ms. */
const WRITER = `
const PAUSE_MS = ${WRITER_PAUSE_MS};
const { parentPort, workerData } = require('node:worker_threads');
const Database = require('better-sqlite3');
const db = new Database(workerData.path);
db.pragma('busy_timeout = 10000');
db.pragma('synchronous = FULL');
const ids = db.prepare("SELECT id FROM tasks WHERE status = 'ready' LIMIT 100").pluck().all();
const touch = db.prepare('UPDATE tasks SET priority = priority WHERE id = ?');
let latencies = [];
let stop = false;
parentPort.on('message', (m) => {
  if (m === 'sample') { parentPort.postMessage(latencies); latencies = []; }
  if (m === 'stop') stop = true;
});
let i = 0;
function loop() {
  if (stop) { db.close(); parentPort.postMessage('stopped'); return; }
  const started = performance.now();
  db.exec('BEGIN IMMEDIATE');
  touch.run(ids[i++ % ids.length]);
  db.exec('COMMIT');
  latencies.push(performance.now() - started);
  setTimeout(loop, PAUSE_MS);
}
loop();
`;

export async function benchGc(): Promise<{ longestBatchMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'kanban-bench-gc-'));
  try {
    const path = join(dir, 'board.db');
    buildBoard(path);
    const sizeBefore = statSync(path).size;
    const writer = new Worker(WRITER, { eval: true, workerData: { path } });
    const sample = () => new Promise<number[]>((resolve) => {
      writer.once('message', resolve);
      writer.postMessage('sample');
    });
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    await sleep(IDLE_MS);
    const idleBefore = await sample();
    const board = new SqliteBoard(openStore(path, { waitAsync: true }));
    const pass = new GcPass(board, { olderThanMs: 30 * DAY, archiveDoneAfterMs: null }, Date.now());
    const started = performance.now();
    await pass.run();
    const gcMs = performance.now() - started;
    const during = await sample();
    await board.close();
    await sleep(IDLE_MS);
    const idleAfter = await sample();
    await new Promise<void>((resolve) => {
      writer.on('message', (m) => m === 'stopped' && resolve());
      writer.postMessage('stop');
    });
    await writer.terminate();
    const idle = [...idleBefore, ...idleAfter];
    const { tally } = pass;
    const p = (values: number[], q: number) => `${percentile(values, q).toFixed(1)} ms`;
    const ratio = percentile(during, 0.99) / percentile(idle, 0.99);
    report(`kanban gc on ${ARCHIVED.toLocaleString('en')} archived tasks with history (+${OPEN.toLocaleString('en')} open), a writer on another connection throughout`, [
      ['removed', `${tally.tasks.toLocaleString('en')} tasks' history: ${tally.events.toLocaleString('en')} events, ${tally.comments.toLocaleString('en')} comments, ${tally.runs.toLocaleString('en')} runs`],
      ['gc took', `${(gcMs / 1000).toFixed(2)} s, ${Math.round(tally.tasks / (gcMs / 1000)).toLocaleString('en')} tasks/s, ${tally.batches} batches`],
      ['longest batch', `${tally.longestBatchMs.toFixed(1)} ms (target ≤ ${MAX_BATCH_MS} ms) ${tally.longestBatchMs <= MAX_BATCH_MS ? 'ok' : 'OVER TARGET'}`],
      ['writer latency idle (before and after): p50 / p99 / max', `${p(idle, 0.5)} / ${p(idle, 0.99)} / ${Math.max(...idle).toFixed(1)} ms (${idle.length} commits)`],
      ['writer latency during gc: p50 / p99 / max', `${p(during, 0.5)} / ${p(during, 0.99)} / ${Math.max(...during).toFixed(1)} ms (${during.length} commits)`],
      ['writer p99 during ÷ idle', `${ratio.toFixed(2)}×`],
      ['board file', `${(sizeBefore / 1048576).toFixed(1)} MiB → ${(statSync(path).size / 1048576).toFixed(1)} MiB (gave back ${(tally.freedBytes / 1048576).toFixed(1)} MiB)`],
    ]);
    return { longestBatchMs: tally.longestBatchMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
