import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PgBoard } from '../src/pg/board.js';
import * as db from '../src/store/db.js';
import * as tasks from '../src/store/tasks.js';
import { build } from 'esbuild';
// @ts-expect-error: a build script in plain JavaScript, without types
import { SCREEN_BUNDLE_OPTIONS } from '../scripts/bundle-plugins.mjs';
import { median, percentile, report, timeProcess, verdict } from './measure.js';
import { benchPostgres } from './postgres.js';
import { spawnScreen, type BenchScreen } from './screen.js';

/** KANBAN_BENCH_SIZES=10000 KANBAN_BENCH_STARTS=15: one size, more starts (to tell a small difference from noise). */
const SIZES = process.env.KANBAN_BENCH_SIZES ? process.env.KANBAN_BENCH_SIZES.split(',').map(Number) : [100, 1_000, 10_000];
const STARTS = Number(process.env.KANBAN_BENCH_STARTS ?? 5);
const CHANGES = 20;
const TARGETS = { firstFrameMs: 1000, frameMs: 50, changeToScreenMs: 300 };
/** Issue 15: the first frame at 10,000 tasks against bare node. */
const FIRST_FRAME_NODE_TARGET = 2.5;
/** PostgreSQL against SQLite: one board size, more changes than above (a p95 wants them); KANBAN_BENCH_CHANGES=100 for more. */
const PG_SIZE = 1_000;
const PG_CHANGES = Number(process.env.KANBAN_BENCH_CHANGES ?? 40);
const KANBAN = fileURLToPath(new URL('../bin/kanban.js', import.meta.url));
/**
 * Another build's bin/kanban.js (a worktree of the commit before a change, built): measured in the
 * same run, interleaved with this one, and the ratios printed. Without it, only this build.
 */
const BASELINE = process.env.KANBAN_BENCH_BASELINE;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `kanban tui --no-dispatch` on a board, in a real pseudo-terminal read by a headless xterm. */
function start(db: string, timings: string, bin = KANBAN, env: Record<string, string> = {}): BenchScreen {
  return spawnScreen([process.execPath, bin, '--db', db, 'tui', '--no-dispatch'], { KANBAN_TUI_TIMINGS: timings, ...env });
}

/** A build to measure: its CLI, and its own store (a baseline's board must have the baseline's schema). */
interface Build {
  bin: string;
  openStore: typeof db.openStore;
  createTask: typeof tasks.createTask;
}

async function baselineBuild(bin: string): Promise<Build> {
  const root = dirname(dirname(bin));
  const store = (await import(pathToFileURL(join(root, 'dist', 'store', 'db.js')).href)) as typeof db;
  const made = (await import(pathToFileURL(join(root, 'dist', 'store', 'tasks.js')).href)) as typeof tasks;
  return { bin, openStore: store.openStore, createTask: made.createTask };
}

interface Figures {
  first: number;
  frame: number;
  latency: number;
}

/** One build on one board: first frames (median of STARTS), then CHANGES inserts from another connection. */
async function measure(build: Build, path: string, size: number, timings: string, firstFrames: number[]): Promise<Omit<Figures, 'first'>> {
  const tui = start(path, timings, build.bin);
  await tui.waitFor(`READY ${size}`);
  writeFileSync(timings, '');
  const store = build.openStore(path);
  const latencies: number[] = [];
  try {
    for (let i = 0; i < CHANGES; i++) {
      const title = `New ${i} ok ${performance.now().toFixed(0)}`; // short, and new on every board
      build.createTask(store, { title, priority: 100_000 + firstFrames.length * CHANGES + i }); // on top of READY: in view
      const committed = performance.now();
      latencies.push((await tui.waitFor(title)) - committed);
      await sleep(50);
    }
  } finally {
    await tui.stop('q');
    store.close();
  }
  const frames = readFileSync(timings, 'utf8').split('\n').filter(Boolean).map(Number);
  return { frame: median(frames), latency: median(latencies) };
}

/** What the floors draw: one line, or a whole 160×40 screen of styled text as a board's is. */
const FLOOR_SCREENS = {
  line: "render(React.createElement(Text, null, 'READY 0'));",
  screen: `const cell = (row, column) => React.createElement(Text, { key: column, color: column % 2 ? 'cyan' : 'yellow', bold: column === 0, wrap: 'truncate' }, ('card ' + row + '.' + column + ' something to do').padEnd(20));
const rows = Array.from({ length: 38 }, (_, row) => React.createElement(Box, { key: row, width: 160 }, ...Array.from({ length: 8 }, (_, column) => cell(row, column))));
render(React.createElement(Box, { flexDirection: 'column' }, React.createElement(Text, { key: 'top' }, 'READY 0'), ...rows));`,
};

/**
 * A floor of a first frame: bare node loading Ink and React, bundled as kanban's screen is
 * (SCREEN_BUNDLE_OPTIONS: minified, yoga without fetch, string-width's and Ink's styled characters'
 * fast paths; floors measured before 2026-12-02's second run had neither fast path), and drawing one line, or a whole screen
 * of styled text (38 rows of 8 coloured pieces, about as many as a board's cards make). Any board
 * drawn with Ink costs at least the first; a full board, about the second. Returns its command.
 */
async function inkFloor(dir: string, draws: keyof typeof FLOOR_SCREENS): Promise<string[]> {
  const entry = join(dir, `floor-${draws}.mjs`);
  const outdir = join(dir, `floor-${draws}`);
  writeFileSync(entry, `import React from 'react';\nimport { render, Box, Text } from 'ink';\n${FLOOR_SCREENS[draws]}\n`);
  await build({
    ...SCREEN_BUNDLE_OPTIONS,
    entryPoints: [entry],
    outdir,
    nodePaths: [fileURLToPath(new URL('../node_modules', import.meta.url))],
  });
  return [process.execPath, join(outdir, `floor-${draws}.js`)];
}

/** From start to `text` on the screen of a 160×40 pseudo-terminal, ms. */
async function timeToScreen(argv: readonly string[], text: string): Promise<number> {
  const program = spawnScreen(argv);
  try {
    return (await program.waitFor(text)) - program.started;
  } finally {
    await program.stop();
  }
}

async function firstFrame(bin: string, db: string, size: number, timings: string): Promise<number> {
  const tui = start(db, timings, bin);
  const shown = await tui.waitFor(`READY ${size}`);
  await tui.stop('q');
  return shown - tui.started;
}

export async function benchTui(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kanban-bench-tui-'));
  const current: Build = { bin: KANBAN, openStore: db.openStore, createTask: tasks.createTask };
  const builds = BASELINE ? [current, await baselineBuild(BASELINE)] : [current];
  try {
    const rows: Array<[string, string]> = [];
    const floor = await inkFloor(dir, 'line');
    const fullFloor = await inkFloor(dir, 'screen');
    for (const size of SIZES) {
      const dbs = builds.map((_, b) => join(dir, `board-${size}-${b}.db`));
      for (const [b, build] of builds.entries()) {
        const store = build.openStore(dbs[b]!);
        store.writeTxn(() => {
          for (let i = 0; i < size; i++) build.createTask(store, { title: `Task ${i}: something to do`, assignee: 'coder', priority: i % 5 });
        });
        store.close();
      }
      const timings = builds.map((_, b) => join(dir, `timings-${size}-${b}.txt`));
      const firsts: number[][] = builds.map(() => []);
      const nodes: number[] = [];
      const floors: number[] = [];
      const fullFloors: number[] = [];
      // Interleaved: this build, the baseline, this build, …, so that a busy moment hits both (and bare node and the floor, at 10,000).
      for (let i = 0; i < STARTS; i++) {
        for (const [b, build] of builds.entries()) firsts[b]!.push(await firstFrame(build.bin, dbs[b]!, size, timings[b]!));
        if (size !== 10_000) continue;
        nodes.push(timeProcess([process.execPath, '-e', '0']));
        floors.push(await timeToScreen(floor, 'READY 0'));
        fullFloors.push(await timeToScreen(fullFloor, 'READY 0'));
      }
      const after: Array<Omit<Figures, 'first'>> = [];
      for (const [b, build] of builds.entries()) after.push(await measure(build, dbs[b]!, size, timings[b]!, firsts[b]!));
      const figures: Figures[] = builds.map((_, b) => ({ first: median(firsts[b]!), ...after[b]! }));
      const [now, base] = figures as [Figures, Figures | undefined];
      const mark = (value: number, target: number) => (size === 10_000 ? ` (target < ${target} ms) ${value < target ? 'ok' : 'OVER TARGET'}` : '');
      const ratio = (key: keyof Figures, digits: number) => (base ? ` · baseline ${base[key].toFixed(digits)} ms, ratio ${(now[key] / base[key]).toFixed(2)}×` : '');
      rows.push([`${size.toLocaleString('en')} tasks: first frame`, `${now.first.toFixed(0)} ms${mark(now.first, TARGETS.firstFrameMs)}${ratio('first', 0)}`]);
      rows.push([`${size.toLocaleString('en')} tasks: frame after a change`, `${now.frame.toFixed(1)} ms${mark(now.frame, TARGETS.frameMs)}${ratio('frame', 1)}`]);
      rows.push([`${size.toLocaleString('en')} tasks: change to screen`, `${now.latency.toFixed(0)} ms${mark(now.latency, TARGETS.changeToScreenMs)}${ratio('latency', 0)}`]);
      if (nodes.length === 0) continue;
      const [node, ink, full] = [median(nodes), median(floors), median(fullFloors)];
      rows.push(['node -e 0 (baseline)', `${node.toFixed(0)} ms`]);
      rows.push(['floor: node + Ink and React, bundled, drawing one line', `${ink.toFixed(0)} ms: ${(ink / node).toFixed(2)}× node, the least any Ink board costs here`]);
      rows.push(['floor: the same drawing a full 160×40 screen of styled text', `${full.toFixed(0)} ms: ${(full / node).toFixed(2)}× node, about what drawing a full board with Ink costs here`]);
      rows.push([`${size.toLocaleString('en')} tasks: first frame ÷ node`, verdict(now.first / node, FIRST_FRAME_NODE_TARGET)]);
      rows.push([`${size.toLocaleString('en')} tasks: first frame ÷ floor`, `${(now.first / ink).toFixed(2)}×: the board's own code, its reads and its first render`]);
    }
    report(`kanban tui in a pseudo-terminal (first frame: median of ${STARTS} starts; changes: median of ${CHANGES} inserts from another connection${BASELINE ? `; baseline ${BASELINE}` : ''})`, rows);
    await changeToScreenPostgres(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Change to screen on a PostgreSQL board (the TUI hears LISTEN/NOTIFY) against a SQLite board (the
 * file watch): both TUIs up at once, on boards of PG_SIZE tasks, one insert from another connection
 * (this process) on each in turn, so that a busy moment hits both. This build only.
 */
async function changeToScreenPostgres(dir: string): Promise<void> {
  const server = await benchPostgres();
  if ('skipped' in server) {
    console.log(`\nkanban tui on PostgreSQL: skipped (${server.skipped})`);
    return;
  }
  const sqlitePath = join(dir, 'board-pg-baseline.db');
  const store = db.openStore(sqlitePath);
  store.writeTxn(() => {
    for (let i = 0; i < PG_SIZE; i++) tasks.createTask(store, { title: `Task ${i}: something to do`, assignee: 'coder', priority: i % 5 });
  });
  const database = await server.database('tui');
  const board = await PgBoard.open(database.url);
  const tuis: BenchScreen[] = [];
  try {
    await board.transitions.createMany(Array.from({ length: PG_SIZE }, (_, i) => ({ input: { title: `Task ${i}: something to do`, assignee: 'coder', priority: i % 5 }, label: `task ${i}` })));
    const timings = { sqlite: join(dir, 'timings-pg-sqlite.txt'), postgres: join(dir, 'timings-pg-postgres.txt') };
    // A server board's logs and workspaces live under $KANBAN_HOME: this run's folder, not the user's.
    tuis.push(start(sqlitePath, timings.sqlite), start(database.url, timings.postgres, KANBAN, { KANBAN_HOME: join(dir, 'home') }));
    for (const tui of tuis) await tui.waitFor(`READY ${PG_SIZE}`);
    await sleep(1_000); // the watches up: chokidar loaded, LISTEN in place (and the reload PostgreSQL's watch asks for then done)
    for (const file of Object.values(timings)) writeFileSync(file, '');
    const latencies = { sqlite: [] as number[], postgres: [] as number[] };
    for (let i = 0; i < PG_CHANGES; i++) {
      for (const side of ['sqlite', 'postgres'] as const) {
        const title = `New ${i} ok ${performance.now().toFixed(0)}`;
        const input = { title, priority: 200_000 + i }; // on top of READY: in view
        if (side === 'sqlite') tasks.createTask(store, input);
        else await board.transitions.create(input);
        const committed = performance.now();
        latencies[side].push((await tuis[side === 'sqlite' ? 0 : 1]!.waitFor(title)) - committed);
        await sleep(50 + Math.random() * 50);
      }
    }
    const frames = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number);
    const [sqliteFrames, pgFrames] = [frames(timings.sqlite), frames(timings.postgres)];
    const line = (values: number[]) => `median ${median(values).toFixed(0)} ms · p95 ${percentile(values, 0.95).toFixed(0)} ms`;
    const ratio = (pg: number[], sqlite: number[]) => `ratio ${(median(pg) / median(sqlite)).toFixed(2)}× (p95 ${(percentile(pg, 0.95) / percentile(sqlite, 0.95)).toFixed(2)}×)`;
    report(`kanban tui on PostgreSQL vs SQLite, ${PG_SIZE.toLocaleString('en')} tasks, both up at once (${PG_CHANGES} inserts each from another connection, interleaved; PostgreSQL: ${server.source})`, [
      ['SQLite: change to screen, file watch (baseline)', line(latencies.sqlite)],
      ['PostgreSQL: change to screen, LISTEN/NOTIFY', `${line(latencies.postgres)} · ${ratio(latencies.postgres, latencies.sqlite)}`],
      ['SQLite: frame after a change (baseline)', `median ${median(sqliteFrames).toFixed(1)} ms · p95 ${percentile(sqliteFrames, 0.95).toFixed(1)} ms`],
      ['PostgreSQL: frame after a change', `median ${median(pgFrames).toFixed(1)} ms · p95 ${percentile(pgFrames, 0.95).toFixed(1)} ms · ${ratio(pgFrames, sqliteFrames)}`],
    ]);
  } finally {
    for (const tui of tuis) await tui.stop('q');
    store.close();
    await board.close();
    await server.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) await benchTui();
