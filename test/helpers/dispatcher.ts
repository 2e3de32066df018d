import { spawn, type ChildProcess } from 'node:child_process';
import { dirname } from 'node:path';
import { KANBAN_BIN } from './cli.js';
import { exited } from './processes.js';
import type { WorkerBoard } from './workers.js';

export interface RunningDispatcher {
  child: ChildProcess;
  /** Every tick result it printed (JSON lines). */
  ticks: Array<{ at: number; actions: Array<{ step: string; action: string; task_id: string; run_id?: number; detail?: string }>; errors: unknown[] }>;
  stderr: () => string;
  /** SIGINT, then its exit code. */
  stop(): Promise<number | null>;
}

/** A real `kanban tui --no-ui --json` on the board, ticking fast, run in the board's folder. */
export function startDispatcher(board: Pick<WorkerBoard, 'db' | 'env'> & { cwd?: string }, env: Record<string, string> = {}): RunningDispatcher {
  const child = spawn(process.execPath, [KANBAN_BIN, '--db', board.db, 'tui', '--no-ui', '--json'], {
    cwd: board.cwd ?? dirname(board.db),
    env: { ...board.env, KANBAN_TICK_SECONDS: '0.2', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ticks: RunningDispatcher['ticks'] = [];
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk) => {
    out += chunk;
    const lines = out.split('\n');
    out = lines.pop()!;
    for (const line of lines) if (line.trim()) ticks.push(JSON.parse(line));
  });
  child.stderr!.on('data', (chunk) => (err += chunk));
  return {
    child,
    ticks,
    stderr: () => err,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      return exited(child);
    },
  };
}
