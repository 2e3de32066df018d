import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../src/store/db.js';
import { claimTask } from '../src/store/lease.js';
import { createTask } from '../src/store/tasks.js';
import { floorCommand, medians, report, verdict } from './measure.js';

/**
 * The floor of a write: bare node opening the board with better-sqlite3 (WAL, a busy timeout) and
 * committing one task and its event in one immediate transaction, as `kanban create` does, with none
 * of kanban's code: checks, config, CLI.
 */
const WRITE_FLOOR = `const db = new Database(path);
db.pragma('journal_mode = WAL');
db.pragma('busy_timeout = 5000');
const now = Date.now();
const id = 't_' + require('node:crypto').randomBytes(4).toString('hex');
db.transaction(() => {
  db.prepare("INSERT INTO tasks (id, title, status, created_at, updated_at) VALUES (?, 'a new task', 'ready', ?, ?)").run(id, now, now);
  db.prepare("INSERT INTO task_events (task_id, kind, payload, created_at) VALUES (?, 'created', '{}', ?)").run(id, now);
}).immediate();
db.close();`;

/**
 * Issue 15's start-up goal for writes: `kanban create` and `kanban worker heartbeat` on a 100,000-task
 * board against bare node (target ≤ 1.5×), and `create` there against a 1,000-task board (the cost of
 * a write must not grow with the file: the full integrity check runs only where a dispatcher starts).
 * Whole processes, interleaved, each run through `env` as the heartbeat's identity must be.
 */
const SIZES = [1_000, 100_000];
const RUNS = 10;
const START_TARGET = 1.5;
const FLAT_TARGET = 1.1;
const KANBAN = fileURLToPath(new URL('../bin/kanban.js', import.meta.url));

/** A board of `count` tasks, one of them claimed; returns the claim's worker identity. */
function buildBoard(path: string, count: number): Record<string, string> {
  const store = openStore(path);
  try {
    const ids = store.writeTxn(() => Array.from({ length: count }, (_, i) => createTask(store, { title: `Task ${i}`, body: 'Context for the agent. '.repeat(8), assignee: 'coder' }).task.id));
    const claim = claimTask(store, ids[0]!, { profile: 'coder', leaseMs: 3_600_000 });
    if (!claim.claimed) throw new Error(`could not claim: ${claim.reason}`);
    return { KANBAN_DB: path, KANBAN_TASK: claim.identity.taskId, KANBAN_RUN_ID: String(claim.identity.runId), KANBAN_CLAIM_LOCK: claim.identity.claimLock };
  } finally {
    store.close();
  }
}

const withEnv = (env: Record<string, string>, argv: string[]) => ['env', ...Object.entries(env).map(([name, value]) => `${name}=${value}`), ...argv];

export function benchWrites(): { create: number; heartbeat: number; flat: number } {
  const dir = mkdtempSync(join(tmpdir(), 'kanban-bench-writes-'));
  try {
    const [small, large] = SIZES.map((size) => buildBoard(join(dir, `board-${size}.db`), size)) as [Record<string, string>, Record<string, string>];
    const result = medians(
      {
        node: withEnv({ BENCH: '1' }, [process.execPath, '-e', '0']),
        createSmall: withEnv({}, [process.execPath, KANBAN, '--db', small.KANBAN_DB!, 'create', 'a new task']),
        createLarge: withEnv({}, [process.execPath, KANBAN, '--db', large.KANBAN_DB!, 'create', 'a new task']),
        heartbeat: withEnv(large, [process.execPath, KANBAN, 'worker', 'heartbeat']),
        floor: withEnv({}, floorCommand(dir, 'write', large.KANBAN_DB!, WRITE_FLOOR)),
      },
      RUNS,
    );
    const create = result.createLarge! / result.node!;
    const heartbeat = result.heartbeat! / result.node!;
    const flat = result.createLarge! / result.createSmall!;
    report(`writes on a ${SIZES[1]!.toLocaleString('en')}-task board (median of ${RUNS}, whole processes, interleaved)`, [
      ['node -e 0 (baseline)', `${result.node!.toFixed(1)} ms`],
      [`kanban create, ${SIZES[0]!.toLocaleString('en')} tasks`, `${result.createSmall!.toFixed(1)} ms`],
      [`kanban create, ${SIZES[1]!.toLocaleString('en')} tasks`, `${result.createLarge!.toFixed(1)} ms`],
      [`kanban worker heartbeat, ${SIZES[1]!.toLocaleString('en')} tasks`, `${result.heartbeat!.toFixed(1)} ms`],
      ['floor: node + better-sqlite3, one task and event committed', `${result.floor!.toFixed(1)} ms`],
      ['create ÷ node', verdict(create, START_TARGET)],
      ['heartbeat ÷ node', verdict(heartbeat, START_TARGET)],
      ['floor ÷ node', `${(result.floor! / result.node!).toFixed(2)}×: the least a write in its own process costs here`],
      ['create ÷ floor', `${(result.createLarge! / result.floor!).toFixed(2)}×: what kanban's own code adds (the CLI, the checks at open, the bundle)`],
      [`create at ${SIZES[1]!.toLocaleString('en')} ÷ at ${SIZES[0]!.toLocaleString('en')}`, verdict(flat, FLAT_TARGET)],
    ]);
    return { create, heartbeat, flat };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
