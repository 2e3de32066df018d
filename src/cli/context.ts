import type { Command } from 'commander';
import { busyTimeoutMs } from '../env.js';
import { resolveBoardPath, type LocationOptions } from '../location.js';
import { corruptBoardError, openStore, type Store } from '../store/db.js';
import { coreError } from '../store/errors.js';
import type { BoardStore } from '../port/board.js';
import { openBoard } from '../port/open.js';
import { BoardCorrupt } from '../errors.js';

export interface GlobalOptions extends LocationOptions {
  json?: boolean;
}

export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

/**
 * Opens the board the options point at as SQLite's `Store`, runs `body`, and always closes it: for
 * what is SQLite's own business (`kanban init` reports the journal mode); everything else goes
 * through the port (withBoard). `read` skips the full integrity scan at open (see
 * OpenOptions.checkIntegrity). Corruption met later (a page only this command read) is handled as
 * at open: refused, and copied aside.
 */
export function withStore<T>(options: GlobalOptions, body: (store: Store) => T, access: 'write' | 'read' = 'write'): T {
  const { path, store } = open(options, access);
  try {
    return body(store);
  } catch (err) {
    throw boardError(err, path, store);
  } finally {
    store.close();
  }
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

function open(options: GlobalOptions, access: 'write' | 'read'): { path: string; store: Store } {
  const path = resolveBoardPath(options);
  return { path, store: openStore(path, openOptions(access)) };
}

/** A command that only reads skips the full integrity scan and never creates a board. */
function openOptions(access: 'write' | 'read') {
  return { busyTimeoutMs: busyTimeoutMs(), checkIntegrity: access === 'write', mustExist: access === 'read' };
}

/**
 * What the body's failure means, as a core error (the store's mapping: a read outside a transaction
 * can still meet the driver's own error). Corruption met after the board was opened is refused and
 * copied aside, the connection closed first.
 */
function boardError(err: unknown, path: string, store: Store): unknown {
  const mapped = coreError(err, path, store.busyTimeoutMs);
  if (!(mapped instanceof BoardCorrupt)) return mapped;
  store.close();
  return corruptBoardError(path, mapped.detail);
}
