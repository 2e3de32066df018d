import type { Command } from 'commander';
import { busyTimeoutMs } from '../env.js';
import { resolveBoardPath, type LocationOptions } from '../location.js';
import type { BoardStore } from '../port/board.js';
import { openBoard } from '../port/open.js';

export interface GlobalOptions extends LocationOptions {
  json?: boolean;
}

export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

/**
 * Opens the board the options point at through the port (openBoard), runs `body`, and always closes
 * it. Its failures are already core errors; corruption met after the open is refused and copied
 * aside by the adapter. `read` never creates a board; `check` (a dispatcher's start, `init`) runs
 * the full integrity check first, which every other open leaves to those (db.ts `checkIntegrity`).
 */
export async function withBoard<T>(options: GlobalOptions, body: (board: BoardStore) => Promise<T>, access: Access = 'write'): Promise<T> {
  const path = resolveBoardPath(options);
  const board = await openBoard(path, openOptions(access));
  try {
    return await body(board);
  } finally {
    await board.close();
  }
}

type Access = 'check' | 'write' | 'read';

function openOptions(access: Access) {
  return { busyTimeoutMs: busyTimeoutMs(), checkIntegrity: access === 'check', mustExist: access === 'read' };
}

