import { InvalidInput } from '../errors.js';
import { TASK_ID } from '../ids.js';
import type { RunIdentity } from '../core/run.js';
import type { BoardRef } from '../port/board.js';

type Env = Record<string, string | undefined>;

const RUN_ID = /^[1-9][0-9]{0,15}$/;
const CLAIM_LOCK = /^[^\s:]+:[0-9]+:[0-9a-f]+$/;

/**
 * The run a worker belongs to, from the environment its supervisor gave it. Missing or malformed
 * variables are bad input (exit 2), found before the board is touched.
 */
export function identityFromEnv(env: Env = process.env): RunIdentity & { db: string } {
  const read = (name: string, pattern: RegExp, what: string): string => {
    const value = env[name];
    if (value === undefined || value === '') {
      throw new InvalidInput(`${name} is not set: worker commands run inside a worker that kanban started`);
    }
    if (!pattern.test(value)) throw new InvalidInput(`invalid ${name} '${value}': expected ${what}`);
    return value;
  };
  const db = read('KANBAN_DB', /\S/, 'the board path');
  const taskId = read('KANBAN_TASK', TASK_ID, 'a task id like t_1a2b3c4d');
  const runId = Number(read('KANBAN_RUN_ID', RUN_ID, 'a run number'));
  const claimLock = read('KANBAN_CLAIM_LOCK', CLAIM_LOCK, 'host:pid:hex');
  return { db, taskId, runId, claimLock };
}

/** The environment a worker runs with: its parent's, plus its identity. */
export function workerEnv(base: Env, identity: RunIdentity, board: BoardRef, workspace: string): Env {
  return {
    ...base,
    KANBAN_DB: board.location,
    KANBAN_TASK: identity.taskId,
    KANBAN_RUN_ID: String(identity.runId),
    KANBAN_CLAIM_LOCK: identity.claimLock,
    KANBAN_WORKSPACE: workspace,
  };
}
