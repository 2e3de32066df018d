import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openStore, type Store } from '../../src/store/db.js';
import type { RunIdentity } from '../../src/core/run.js';
import { runById } from '../../src/store/runs.js';
import { showTask } from '../../src/store/tasks.js';
import type { EventRow, RunRow } from '../../src/core/types.js';
import { taskLogPath } from '../../src/workers/runlog.js';
import { startSupervisor } from '../../src/workers/launch.js';
import { afterEach } from 'vitest';
import { killBoardProcesses } from '../../chaos/harness.js';
import { tempDir, claimOrFail } from './board.js';
import { cleanEnv, fixture, isAlive } from './processes.js';
import { sqliteRef } from '../../src/store/sqlite-board.js';

export const worker = (name: string, ...args: string[]) => [process.execPath, fixture(`workers/${name}.mjs`), ...args];

/** Short durations for real processes, through the contract's environment variables. */
export const TTL_SECONDS = 3;

export interface WorkerBoard {
  db: string;
  store: Store;
  env: Record<string, string>;
}

const boards: WorkerBoard[] = [];

/**
 * After each test, every process working for its boards is SIGKILLed (a hanging worker would
 * otherwise outlive the test, and the run), found by the board in its environment, and the board closed.
 */
afterEach(() => {
  for (const board of boards.splice(0)) {
    killBoardProcesses(board.db);
    if (board.store.db.open) board.store.close();
  }
});

/**
 * A real board and a config whose profiles are the fixture workers. `profiles` maps a profile name to
 * its command (and options); `more` is the rest of the config (hooks, say).
 */
export function workerBoard(
  profiles: Record<string, { command: string[]; on_clean_exit?: string }>,
  env: Record<string, string> = {},
  more: Record<string, unknown> = {},
): WorkerBoard {
  const dir = tempDir('kanban-workers-');
  const db = join(dir, 'board.db');
  const config = join(dir, 'config.yaml');
  writeFileSync(config, JSON.stringify({ profiles, ...more })); // JSON is YAML
  const store = openStore(db);
  const board: WorkerBoard = {
    db,
    store,
    env: {
      ...cleanEnv(),
      KANBAN_CONFIG: config,
      KANBAN_CLAIM_TTL_SECONDS: String(TTL_SECONDS),
      KANBAN_HEARTBEAT_BRIDGE_SECONDS: '0.3',
      ...env,
    },
  };
  boards.push(board);
  return board;
}

/**
 * What the dispatcher will do: claim the task, then start its supervisor detached, in `cwd` (the
 * board's folder unless given: a worktree workspace is made from the repository around it).
 */
export function claimAndStart(board: WorkerBoard, taskId: string, leaseSeconds = TTL_SECONDS, cwd = dirname(board.db)): RunIdentity {
  const claim = claimOrFail(board.store, taskId, { profile: null, leaseMs: leaseSeconds * 1000 });
  supervisors.set(runKey(board, claim.identity), startSupervisor(sqliteRef(board.db), claim.identity, { env: board.env, cwd }));
  return claim.identity;
}

/** The supervisors claimAndStart started, by board and run: runEnded waits for them to be done. */
const supervisors = new Map<string, number>();
const runKey = (board: Pick<WorkerBoard, 'db'>, identity: Pick<RunIdentity, 'runId'>) => `${board.db}#${identity.runId}`;

/** Polls until `check` returns a value, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | null | false, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * Waits until the run has ended and its supervisor has recorded the exit (or the run was closed by the
 * worker). A supervisor claimAndStart started is also waited for until it has exited: what it does
 * after recording the exit (the worker_killed event, the scratch workspace's removal, the log's last
 * lines) is then done too, however slow the machine.
 */
export async function runEnded(board: WorkerBoard, identity: RunIdentity, timeoutMs = 15_000): Promise<RunRow> {
  const deadline = Date.now() + timeoutMs;
  const ended = await waitFor(`run ${identity.runId} to end`, () => {
    const run = runById(board.store, identity.taskId, identity.runId);
    return run && run.status === 'ended' && (run.exit_code !== null || run.signal !== null || run.outcome === 'spawn_failed') ? run : undefined;
  }, timeoutMs);
  const supervisor = supervisors.get(runKey(board, identity));
  if (supervisor !== undefined) await waitFor(`the supervisor of run ${identity.runId} to exit`, () => !isAlive(supervisor), Math.max(deadline - Date.now(), 5_000));
  return runById(board.store, identity.taskId, identity.runId)!;
}

/** A task's events, only those of `kind` when given. */
export function eventsOf(board: WorkerBoard, taskId: string, kind?: string): EventRow[] {
  return showTask(board.store, taskId).events.filter((e) => kind === undefined || e.kind === kind);
}

/** A task's log: every run's output and its supervisor's notes. */
export function taskLog(board: Pick<WorkerBoard, 'db'>, taskId: string): string {
  return readFileSync(taskLogPath(dirname(board.db), taskId), 'utf8');
}

/** Polls an asynchronous check (a read through the port) until it returns a value, or fails after `timeoutMs`. */
export async function until<T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
