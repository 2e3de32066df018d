import { spawn } from 'node:child_process';
import { closeSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunIdentity } from '../core/run.js';
import type { BoardRef } from '../port/board.js';
import { openTaskLog } from './runlog.js';

/** bin/kanban.js of this installation, found from wherever this code was loaded (src, dist or a bundle chunk). */
export function kanbanBin(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'bin', 'kanban.js'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find bin/kanban.js above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return join(dir, 'bin', 'kanban.js');
}

export interface LaunchOptions {
  env?: NodeJS.ProcessEnv;
  /** Where the supervisor runs: a worktree workspace is made from the git repository around it. */
  cwd?: string;
}

/**
 * Starts `kanban worker run` for a claimed run, detached: its own session and process group, so it
 * outlives whoever started it (the dispatcher, the board, a test). Its stderr goes to the task log.
 * Returns its pid.
 */
export function startSupervisor(ref: BoardRef, identity: Pick<RunIdentity, 'taskId' | 'runId'>, options: LaunchOptions = {}): number {
  const env = options.env ?? process.env;
  const log = openTaskLog(ref.dataDir, identity.taskId);
  try {
    const child = spawn(process.execPath, [kanbanBin(), 'worker', 'run', '--task', identity.taskId, '--run', String(identity.runId)], {
      detached: true,
      cwd: options.cwd ?? process.cwd(),
      stdio: ['ignore', 'ignore', log],
      // The run's identity in its environment lets the reaper tell this process from a stranger that reused its pid.
      env: { ...env, KANBAN_DB: ref.location, KANBAN_TASK: identity.taskId, KANBAN_RUN_ID: String(identity.runId) },
    });
    child.unref();
    if (child.pid === undefined) throw new Error('the supervisor process did not start');
    return child.pid;
  } finally {
    closeSync(log); // the child has its own copy of the descriptor
  }
}
