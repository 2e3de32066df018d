import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../src/store/db.js';
import { claimTask } from '../src/store/lease.js';
import { createTask } from '../src/store/tasks.js';
import { medians, report } from './measure.js';

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
      },
      RUNS,
    );
    const create = result.createLarge! / result.node!;
    const heartbeat = result.heartbeat! / result.node!;
    const flat = result.createLarge! / result.createSmall!;
    const verdict = (ratio: number, target: number) => `${ratio.toFixed(2)}× (target ≤ ${target.toFixed(1)}×) ${ratio <= target ? 'ok' : 'OVER TARGET'}`;
    report(`writes on a ${SIZES[1]!.toLocaleString('en')}-task board (median of ${RUNS}, whole processes, interleaved)`, [
      ['node -e 0 (baseline)', `${result.node!.toFixed(1)} ms`],
      [`kanban create, ${SIZES[0]!.toLocaleString('en')} tasks`, `${result.createSmall!.toFixed(1)} ms`],
      [`kanban create, ${SIZES[1]!.toLocaleString('en')} tasks`, `${result.createLarge!.toFixed(1)} ms`],
      [`kanban worker heartbeat, ${SIZES[1]!.toLocaleString('en')} tasks`, `${result.heartbeat!.toFixed(1)} ms`],
      ['create ÷ node', verdict(create, START_TARGET)],
      ['heartbeat ÷ node', verdict(heartbeat, START_TARGET)],
      [`create at ${SIZES[1]!.toLocaleString('en')} ÷ at ${SIZES[0]!.toLocaleString('en')}`, verdict(flat, FLAT_TARGET)],
    ]);
    return { create, heartbeat, flat };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
