import xterm from '@xterm/headless';
import * as pty from 'node-pty';

// CommonJS: its named exports are not visible to Node's ESM loader.
const { Terminal } = xterm;
type Terminal = InstanceType<typeof Terminal>;
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openStore } from '../src/store/db.js';
import { createTask } from '../src/store/tasks.js';
import { median, report } from './measure.js';

const SIZES = [100, 1_000, 10_000];
const STARTS = 5;
const CHANGES = 20;
const TARGETS = { firstFrameMs: 1000, frameMs: 50, changeToScreenMs: 300 };
const KANBAN = fileURLToPath(new URL('../bin/kanban.js', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Running {
  screen: () => string;
  stop: () => Promise<void>;
  started: number;
}

/** `kanban tui --no-dispatch` on a board, in a real pseudo-terminal read by a headless xterm. */
function start(db: string, timings: string): Running {
  const term = new Terminal({ cols: 160, rows: 40, allowProposedApi: true });
  const started = performance.now();
  const child = pty.spawn(process.execPath, [KANBAN, '--db', db, 'tui', '--no-dispatch'], {
    cols: 160,
    rows: 40,
    env: { ...process.env, KANBAN_TUI_TIMINGS: timings } as Record<string, string>,
  });
  child.onData((data) => term.write(data));
  const exited = new Promise<void>((resolve) => child.onExit(() => resolve()));
  return {
    started,
    screen: () => Array.from({ length: term.rows }, (_, i) => term.buffer.active.getLine(i)?.translateToString(true) ?? '').join('\n'),
    stop: async () => {
      child.write('q');
      await Promise.race([exited, sleep(3000).then(() => child.kill('SIGKILL'))]);
    },
  };
}

async function until(check: () => boolean, timeoutMs = 20_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error('timed out');
    await sleep(2);
  }
  return performance.now();
}

export async function benchTui(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kanban-bench-tui-'));
  try {
    const rows: Array<[string, string]> = [];
    for (const size of SIZES) {
      const db = join(dir, `board-${size}.db`);
      const store = openStore(db);
      store.writeTxn(() => {
        for (let i = 0; i < size; i++) createTask(store, { title: `Task ${i}: something to do`, assignee: 'coder', priority: i % 5 });
      });
      const timings = join(dir, `timings-${size}.txt`);
      writeFileSync(timings, '');

      const firstFrames: number[] = [];
      for (let i = 0; i < STARTS; i++) {
        const tui = start(db, timings);
        const shown = await until(() => tui.screen().includes(`READY ${size}`));
        firstFrames.push(shown - tui.started);
        await tui.stop();
      }

      const tui = start(db, timings);
      await until(() => tui.screen().includes(`READY ${size}`));
      writeFileSync(timings, '');
      const latencies: number[] = [];
      for (let i = 0; i < CHANGES; i++) {
        const title = `New ${i} ok`; // short: a card is 26 columns wide
        createTask(store, { title, priority: 1000 + i }); // on top of READY: in view
        const committed = performance.now();
        latencies.push((await until(() => tui.screen().includes(title))) - committed);
        await sleep(50);
      }
      await tui.stop();
      store.close();
      const frames = readFileSync(timings, 'utf8').split('\n').filter(Boolean).map(Number);
      const first = median(firstFrames);
      const frame = median(frames);
      const latency = median(latencies);
      const mark = (value: number, target: number) => (size === 10_000 ? ` (target < ${target} ms) ${value < target ? 'ok' : 'OVER TARGET'}` : '');
      rows.push([`${size.toLocaleString('en')} tasks: first frame`, `${first.toFixed(0)} ms${mark(first, TARGETS.firstFrameMs)}`]);
      rows.push([`${size.toLocaleString('en')} tasks: frame after a change`, `${frame.toFixed(1)} ms${mark(frame, TARGETS.frameMs)}`]);
      rows.push([`${size.toLocaleString('en')} tasks: change to screen`, `${latency.toFixed(0)} ms${mark(latency, TARGETS.changeToScreenMs)}`]);
    }
    report(`kanban tui in a pseudo-terminal (first frame: median of ${STARTS} starts; changes: median of ${CHANGES} inserts from another connection)`, rows);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) await benchTui();
