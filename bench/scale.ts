import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigSchema } from '../src/config.js';
import { BOARD_COLUMNS } from '../src/core/types.js';
import { dispatchOnce } from '../src/dispatcher/tick.js';
import { resolveSettings } from '../src/settings.js';
import { openStore } from '../src/store/db.js';
import { SqliteBoard } from '../src/store/sqlite-board.js';
import { createTask } from '../src/store/tasks.js';
import { median, medians, report, verdict } from './measure.js';
import { spawnScreen } from './screen.js';

/**
 * Issue 15's scaling table: the same work in flight (OPEN tasks: ready, todo, blocked, in review) on
 * boards whose history grows, 1,000 to 1,000,000 tasks, the rest done or archived, each with a run
 * and its events. The tick, the commands and the board's first frame must cost the same at every
 * size; the board's memory at the largest stays under its limit. Whole processes are timed
 * interleaved (every size in turn), against bare node in the same rounds.
 * KANBAN_BENCH_SCALE_SIZES=1000,10000 for a quick run.
 */
const SIZES = process.env.KANBAN_BENCH_SCALE_SIZES ? process.env.KANBAN_BENCH_SCALE_SIZES.split(',').map(Number) : [1_000, 10_000, 100_000, 1_000_000];
const OPEN = 1_000;
const READY = 500;
const RUNS = Number(process.env.KANBAN_BENCH_SCALE_RUNS ?? 5);
const TICKS = 15;
const STARTS = 5;
/** At most this much slower at the largest size than at 10,000 tasks: flat, within a loaded machine's noise. */
const FLAT_TARGET = 1.25;
const FIRST_FRAME_TARGETS: Record<number, number> = { 10_000: 2.5, 1_000_000: 4 };
const RSS_TARGET_MB = 150;
const KANBAN = fileURLToPath(new URL('../bin/kanban.js', import.meta.url));
const DAY = 86_400_000;

/**
 * A board of `size` tasks: size - OPEN of history, made in bulk by SQL (done, one in five archived,
 * each with a run and three events, spread over the last year), then the OPEN tasks in flight
 * through the store's own create. Returns an open task's id.
 */
function buildBoard(path: string, size: number): string {
  const store = openStore(path);
  try {
    const history = size - OPEN;
    const now = Date.now();
    store.writeTxn(() => {
      store.db
        .prepare(
          `WITH RECURSIVE n (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < @count)
           INSERT INTO tasks (id, title, body, status, assignee, priority, summary, workspace_kind, created_at, updated_at, started_at, completed_at)
           SELECT printf('t_%08x', i), 'Finished task ' || i, 'What was asked, in a few words.', CASE WHEN i % 5 = 0 THEN 'archived' ELSE 'done' END,
                  'coder', 0, 'done, tests pass', 'scratch', @start + i * @step, @start + i * @step + 60000, @start + i * @step, @start + i * @step + 60000
           FROM n`,
        )
        .run({ count: history, start: now - 365 * DAY, step: Math.floor((365 * DAY) / Math.max(1, history)) });
      store.db.exec(`
        INSERT INTO task_runs (task_id, profile, status, claim_lock, worker_pid, started_at, ended_at, outcome, summary, exit_code)
          SELECT id, 'coder', 'ended', 'bench:1:1', NULL, started_at, completed_at, 'completed', 'done', 0 FROM tasks;
        INSERT INTO task_events (task_id, run_id, kind, payload, created_at)
          SELECT task_id, id, kind, '{}', started_at FROM task_runs, (SELECT 'claimed' AS kind UNION ALL SELECT 'heartbeat' UNION ALL SELECT 'completed');
      `);
      for (let i = 0; i < OPEN; i++) {
        const status = i < READY ? 'ready' : i < READY + 200 ? 'blocked' : 'todo';
        createTask(store, { title: `Open task ${i}`, body: 'Context for the agent. '.repeat(8), assignee: 'coder', status });
      }
      // A hundred in review, through the row (the bench needs the state, not the path to it).
      store.db.exec(`UPDATE tasks SET status = 'review' WHERE id IN (SELECT id FROM tasks WHERE status = 'todo' AND title LIKE 'Open task %' ORDER BY id LIMIT 100)`);
    });
    return store.db.prepare("SELECT id FROM tasks WHERE status = 'ready' LIMIT 1").pluck().get() as string;
  } finally {
    store.close();
  }
}

/** A dry-run tick in this process, median of TICKS: what a dispatcher reads each tick. */
async function tickMs(path: string): Promise<number> {
  const board = new SqliteBoard(openStore(path, { waitAsync: true, checkIntegrity: false }));
  const config = ConfigSchema.parse({ profiles: { coder: { command: ['true'], on_clean_exit: 'complete' } } });
  const settings = resolveSettings({});
  try {
    const times: number[] = [];
    for (let i = 0; i < TICKS + 2; i++) {
      const started = performance.now();
      await dispatchOnce(board, config, { now: () => Date.now() }, { dryRun: true, settings, isRunProcess: () => false });
      if (i >= 2) times.push(performance.now() - started);
    }
    return median(times);
  } finally {
    await board.close();
  }
}

/** A filter a person would type: a finished task's title, matched by a few done tasks at each size. */
const FILTER = 'Finished task 4321';

/** The tasks in DONE that FILTER matches (title, assignee or id, as the board matches it). */
function filterMatchesInDone(path: string): number {
  const store = openStore(path, { checkIntegrity: false });
  try {
    const pattern = `%${FILTER}%`;
    return store.db.prepare("SELECT count(*) FROM tasks WHERE status = 'done' AND (title LIKE ? OR assignee LIKE ? OR id LIKE ?)").pluck().get(pattern, pattern, pattern) as number;
  } finally {
    store.close();
  }
}

interface Session {
  /** Start to the first frame (READY shown), ms; resident memory then, MB. */
  ms: number;
  rssMb: number;
  /** From G in DONE to its last card shown (the oldest finished task), ms; null on a board with no history. */
  scrollMs: number | null;
  /** From FILTER typed at once to DONE's count of its matches shown, ms; null on a board with no history. */
  filterMs: number | null;
}

/** The board in a pseudo-terminal: its first frame, then (on a board with history) DONE scrolled to its end, then a filter typed. */
async function boardSession(path: string, history: { matches: number } | null): Promise<Session> {
  const board = spawnScreen([process.execPath, KANBAN, '--db', path, 'tui', '--no-dispatch']);
  /** ms from now until the screen shows `pattern`. */
  const until = async (pattern: RegExp, what: string): Promise<number> => {
    const from = performance.now();
    return (await board.waitFor(pattern, what)) - from;
  };
  try {
    const ms = (await board.waitFor(/READY \d+/, 'first frame')) - board.started;
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${board.pid}/status`, 'utf8'));
    let scrollMs: number | null = null;
    let filterMs: number | null = null;
    if (history) {
      board.write('l'.repeat(BOARD_COLUMNS.length)); // to DONE, the last column
      await until(/DONE \d+/, 'DONE');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const scrolled = until(/Finished task 1(?!\d)/, 'end of DONE'); // the oldest done task: 0 is archived
      board.write('G');
      scrollMs = await scrolled;
      board.write('g/');
      await until(/filter \(id, title or assignee/, 'filter prompt');
      const filtered = until(new RegExp(`DONE ${history.matches}(?!\\d)`), 'filtered DONE');
      board.write(FILTER);
      filterMs = await filtered;
    }
    return { ms, rssMb: rss ? Number(rss[1]) / 1024 : NaN, scrollMs, filterMs };
  } finally {
    await board.stop('\x1bq');
  }
}

export async function benchScale(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kanban-bench-scale-'));
  try {
    const boards = SIZES.map((size) => {
      const path = join(dir, `board-${size}.db`);
      const started = performance.now();
      const openId = buildBoard(path, size);
      console.log(`  built ${size.toLocaleString('en')} tasks in ${((performance.now() - started) / 1000).toFixed(1)} s (${(statSync(path).size / 1048576).toFixed(0)} MiB)`);
      return { size, path, openId, history: size > OPEN ? { matches: filterMatchesInDone(path) } : null };
    });
    const commands: Record<string, string[]> = { node: [process.execPath, '-e', '0'] };
    for (const { size, path, openId } of boards) {
      commands[`ready ${size}`] = [process.execPath, KANBAN, '--db', path, 'list', '--status', 'ready', '--json'];
      commands[`diagnostics ${size}`] = [process.execPath, KANBAN, '--db', path, 'diagnostics', '--json'];
      commands[`show ${size}`] = [process.execPath, KANBAN, '--db', path, 'show', openId, '--json'];
      commands[`dispatch ${size}`] = [process.execPath, KANBAN, '--db', path, 'dispatch', '--dry-run'];
      commands[`create ${size}`] = [process.execPath, KANBAN, '--db', path, 'create', 'one more'];
    }
    const times = medians(commands, RUNS);
    const ticks: Record<number, number> = {};
    const frames: Record<number, number[]> = {};
    const rss: Record<number, number[]> = {};
    const scrolls: Record<number, number[]> = {};
    const filters: Record<number, number[]> = {};
    for (const { size, path } of boards) ticks[size] = await tickMs(path);
    for (let i = 0; i < STARTS; i++) {
      for (const { size, path, history } of boards) {
        const session = await boardSession(path, history);
        (frames[size] ??= []).push(session.ms);
        (rss[size] ??= []).push(session.rssMb);
        if (session.scrollMs !== null) (scrolls[size] ??= []).push(session.scrollMs);
        if (session.filterMs !== null) (filters[size] ??= []).push(session.filterMs);
      }
    }
    const node = times.node!;
    const largest = SIZES.at(-1)!;
    const reference = SIZES.includes(10_000) ? 10_000 : SIZES[0]!;
    const rows: Array<[string, string]> = [];
    const header = SIZES.map((size) => size.toLocaleString('en').padStart(10)).join('');
    rows.push(['', `${header}   ${largest.toLocaleString('en')} ÷ ${reference.toLocaleString('en')}`]);
    const line = (label: string, value: (size: number) => number, unit = 'ms', flat = true) => {
      const cell = (v: number) => (Number.isNaN(v) ? '—' : `${v.toFixed(v < 10 ? 1 : 0)} ${unit}`);
      const cells = SIZES.map((size) => cell(value(size)).padStart(10)).join('');
      const ratio = value(largest) / value(reference);
      rows.push([label, `${cells}   ${flat ? verdict(ratio, FLAT_TARGET) : ''}`]);
    };
    line('dry-run tick (in process, median of 15)', (size) => ticks[size]!);
    line('kanban list --status ready --json', (size) => times[`ready ${size}`]!);
    line('kanban diagnostics --json', (size) => times[`diagnostics ${size}`]!);
    line('kanban show ID --json', (size) => times[`show ${size}`]!);
    line('kanban dispatch --dry-run', (size) => times[`dispatch ${size}`]!);
    line('kanban create', (size) => times[`create ${size}`]!);
    line('kanban tui: first frame', (size) => median(frames[size]!));
    line('kanban tui: resident memory at first frame', (size) => median(rss[size]!), 'MB', false);
    line('kanban tui: G, to the end of DONE', (size) => (scrolls[size] ? median(scrolls[size]) : NaN), 'ms', false);
    line(`kanban tui: filter "${FILTER}" typed, to its matches`, (size) => (filters[size] ? median(filters[size]) : NaN), 'ms', false);
    rows.push(['node -e 0 (baseline)', `${node.toFixed(0)} ms`]);
    for (const [size, target] of Object.entries(FIRST_FRAME_TARGETS)) {
      const frame = frames[Number(size)];
      if (!frame) continue;
      const ratio = median(frame) / node;
      rows.push([`first frame at ${Number(size).toLocaleString('en')} ÷ node`, verdict(ratio, target)]);
    }
    const memory = median(rss[largest]!);
    rows.push([`the board's memory at ${largest.toLocaleString('en')} tasks`, `${memory.toFixed(0)} MB (target < ${RSS_TARGET_MB} MB) ${memory < RSS_TARGET_MB ? 'ok' : 'OVER TARGET'}`]);
    report(`the same ${OPEN.toLocaleString('en')} tasks in flight on boards of growing history (whole processes: median of ${RUNS}, interleaved; first frame: median of ${STARTS} starts, 160×40)`, rows);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
