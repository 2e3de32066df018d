import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BoardStore } from '../src/port/board.js';
import { openBoard } from '../src/port/open.js';
import { median, percentile, report } from './measure.js';
import { benchPostgres } from './postgres.js';
import { BoardWorker } from './workers.js';

/** KANBAN_BENCH_CHANGES=100: more changes (to tell a small difference from noise). */
const CHANGES = Number(process.env.KANBAN_BENCH_CHANGES ?? 40);
const WARMUP = 3;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const epochNow = () => performance.timeOrigin + performance.now();

interface Watched {
  name: string;
  board: BoardStore;
  writer: BoardWorker;
  /** When each onChange came, epoch ms. */
  heard: number[];
  stop: () => void;
  latencies: number[];
}

async function watched(name: string, location: string): Promise<Watched> {
  const writer = new BoardWorker();
  await writer.request({ type: 'open', location, caps: false, batch: 0 }, 'ready'); // opened (and migrated) before the watch starts
  const board = await openBoard(location);
  const heard: number[] = [];
  const stop = board.watch(() => heard.push(epochNow()));
  return { name, board, writer, heard, stop, latencies: [] };
}

/** One change made by the other process: from its commit to this process's onChange. */
async function change(w: Watched, n: number): Promise<number> {
  const sent = epochNow();
  const { at } = await w.writer.request({ type: 'create', title: `Change ${n}` }, 'created');
  const deadline = performance.now() + 10_000;
  for (;;) {
    const first = w.heard.find((t) => t > sent);
    if (first !== undefined) return first - at;
    if (performance.now() > deadline) throw new Error(`${w.name}: no onChange within 10 s of a commit`);
    await sleep(1);
  }
}

/**
 * From another process's committed change to `board.watch`'s onChange, at the port (not the screen:
 * bench/tui.ts measures that): SQLite's file watch (chokidar on the board and its WAL, confirmed by
 * data_version) against PostgreSQL's LISTEN/NOTIFY, one change on each in turn, apart by a random
 * 60–160 ms so that nothing lines up with either side's timers.
 */
export async function benchWatch(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kanban-bench-watch-'));
  const pg = await benchPostgres();
  const sides: Watched[] = [];
  try {
    sides.push(await watched('SQLite', join(dir, 'board.db')));
    if (!('skipped' in pg)) sides.push(await watched('PostgreSQL', (await pg.database('watch')).url));
    await sleep(1_000); // chokidar loaded, LISTEN issued
    for (let i = 0; i < WARMUP + CHANGES; i++) {
      for (const side of sides) {
        const ms = await change(side, i);
        if (i >= WARMUP) side.latencies.push(ms);
        await sleep(60 + Math.random() * 100);
      }
    }
    const [sqlite, postgres] = sides as [Watched, Watched | undefined];
    const line = (w: Watched) => `median ${median(w.latencies).toFixed(1)} ms · p95 ${percentile(w.latencies, 0.95).toFixed(1)} ms`;
    const rows: Array<[string, string]> = [['SQLite: chokidar + data_version (baseline)', line(sqlite)]];
    if (postgres) {
      const ratio = median(postgres.latencies) / median(sqlite.latencies);
      const p95 = percentile(postgres.latencies, 0.95) / percentile(sqlite.latencies, 0.95);
      rows.push(['PostgreSQL: LISTEN/NOTIFY', `${line(postgres)} · ratio ${ratio.toFixed(2)}× (p95 ${p95.toFixed(2)}×)`]);
    } else rows.push(['PostgreSQL', `skipped: ${(pg as { skipped: string }).skipped}`]);
    report(
      `change to the watch: another process's commit to board.watch's onChange, at the port, not the screen (median and p95 of ${CHANGES} changes each, interleaved)` +
        `\n  both fold a burst into one call after 15 ms (src/store/watch.ts SETTLE_MS, src/pg/watch.ts settleMs)${'skipped' in pg ? '' : `; PostgreSQL: ${pg.source}`}`,
      rows,
    );
  } finally {
    for (const side of sides) {
      side.stop();
      await side.board.close();
      await side.writer.exit();
    }
    if (!('skipped' in pg)) await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) await benchWatch();
