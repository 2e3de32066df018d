import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../src/store/db.js';
import { createTask } from '../src/store/tasks.js';
import { report } from './measure.js';

/**
 * Issue 15's memory goal for a dispatcher: `kanban tui --no-ui` with 4 workers cycling (each run a
 * short real process that completes) for KANBAN_BENCH_SOAK_MINUTES (30 by default) on a board of
 * 100,000 tasks; its resident memory sampled every 30 s, compared at the start (after a minute's
 * warm-up) and at the end. Not part of a plain `npm run bench` (it takes half an hour):
 * `npm run bench -- soak`.
 */
const MINUTES = Number(process.env.KANBAN_BENCH_SOAK_MINUTES ?? 30);
const HISTORY = 100_000;
const READY = 40_000;
const SAMPLE_MS = 30_000;
const WARMUP_MS = 60_000;
/** Growth beyond this, end against start, is more than noise. */
const GROWTH_TARGET = 1.1;
const KANBAN = fileURLToPath(new URL('../bin/kanban.js', import.meta.url));

function buildBoard(path: string): void {
  const store = openStore(path);
  try {
    store.writeTxn(() => {
      store.db
        .prepare(
          `WITH RECURSIVE n (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < @count)
           INSERT INTO tasks (id, title, body, status, assignee, priority, summary, workspace_kind, created_at, updated_at, started_at, completed_at)
           SELECT printf('t_%08x', i), 'Finished task ' || i, 'What was asked.', 'done', 'quick', 0, 'done', 'scratch', @at, @at, @at, @at FROM n`,
        )
        .run({ count: HISTORY, at: Date.now() - 86_400_000 });
      for (let i = 0; i < READY; i++) createTask(store, { title: `Cycle ${i}`, assignee: 'quick' });
    });
  } finally {
    store.close();
  }
}

function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

function doneCount(path: string): number {
  const store = openStore(path, { checkIntegrity: false });
  try {
    return store.db.prepare("SELECT count(*) FROM tasks WHERE status = 'done'").pluck().get() as number;
  } finally {
    store.close();
  }
}

export async function benchSoak(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kanban-bench-soak-'));
  const path = join(dir, 'board.db');
  const config = join(dir, 'config.yaml');
  writeFileSync(config, `profiles:\n  quick:\n    command: ["${process.execPath}", "-e", "setTimeout(() => {}, 300)"]\n    on_clean_exit: complete\nmax_in_progress: 4\ntick_seconds: 0.5\n`);
  buildBoard(path);
  const dispatcher = spawn(process.execPath, [KANBAN, '--db', path, '--config', config, 'tui', '--no-ui'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  dispatcher.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const samples: Array<{ minute: number; rss: number; done: number }> = [];
  const started = Date.now();
  try {
    await sleep(WARMUP_MS);
    const doneAtStart = doneCount(path);
    while (Date.now() - started < WARMUP_MS + MINUTES * 60_000) {
      if (dispatcher.exitCode !== null) throw new Error(`the dispatcher exited (${dispatcher.exitCode}): ${stderr}`);
      samples.push({ minute: (Date.now() - started) / 60_000, rss: rssMb(dispatcher.pid!), done: doneCount(path) - doneAtStart });
      console.log(`  ${samples.at(-1)!.minute.toFixed(1)} min: ${samples.at(-1)!.rss.toFixed(1)} MB, ${samples.at(-1)!.done} runs completed`);
      await sleep(SAMPLE_MS);
    }
  } finally {
    dispatcher.kill('SIGTERM');
    await new Promise((resolve) => dispatcher.once('exit', resolve));
  }
  try {
    const first = samples[0]!;
    const last = samples.at(-1)!;
    const growth = last.rss / first.rss;
    report(`kanban tui --no-ui, 4 workers cycling for ${MINUTES} min on a board of ${HISTORY.toLocaleString('en')} done tasks (resident memory every ${SAMPLE_MS / 1000} s, after a ${WARMUP_MS / 1000} s warm-up)`, [
      ['runs completed', `${last.done.toLocaleString('en')} (${(last.done / (MINUTES * 60)).toFixed(1)}/s)`],
      ['resident memory at the start', `${first.rss.toFixed(1)} MB`],
      ['resident memory at the end', `${last.rss.toFixed(1)} MB`],
      ['highest', `${Math.max(...samples.map((s) => s.rss)).toFixed(1)} MB`],
      ['end ÷ start', `${growth.toFixed(2)}× (target ≤ ${GROWTH_TARGET}×) ${growth <= GROWTH_TARGET ? 'ok' : 'GROWS'}`],
    ]);
  } finally {
    // The dispatcher leaves its last runs to finish on their own: give them a moment before the folder goes.
    await sleep(3000);
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 500 });
  }
}
