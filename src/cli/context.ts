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
 * aside by the adapter. `read` skips the full integrity scan and never creates a board.
 */
export async function withBoard<T>(options: GlobalOptions, body: (board: BoardStore) => Promise<T>, access: 'write' | 'read' = 'write'): Promise<T> {
  const path = resolveBoardPath(options);
  const board = await openBoard(path, openOptions(access));
  try {
    return await body(board);
  } finally {
    await board.close();
  }
}

/** A command that only reads skips the full integrity scan and never creates a board. */
function openOptions(access: 'write' | 'read') {
  return { busyTimeoutMs: busyTimeoutMs(), checkIntegrity: access === 'write', mustExist: access === 'read' };
}

