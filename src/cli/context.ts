import type { Command } from 'commander';
import { busyTimeoutMs } from '../env.js';
import { resolveBoardPath, type LocationOptions } from '../location.js';
import { errorMessage } from '../errors.js';
import { corruptBoardError, isCorruption, openStore, type Store } from '../store/db.js';

export interface GlobalOptions extends LocationOptions {
  json?: boolean;
}

export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

/**
 * Opens the board the options point at, runs `body`, and always closes it. `read` skips the full
 * integrity scan at open (see OpenOptions.checkIntegrity). Corruption met later (a page only this
 * command read) is handled as at open: refused, and copied aside.
 */
export function withStore<T>(options: GlobalOptions, body: (store: Store) => T, access: 'write' | 'read' = 'write'): T {
  const path = resolveBoardPath(options);
  const store = openStore(path, { busyTimeoutMs: busyTimeoutMs(), checkIntegrity: access === 'write', mustExist: access === 'read' });
  try {
    return body(store);
  } catch (err) {
    if (!isCorruption(err)) throw err;
    store.close();
    throw corruptBoardError(path, errorMessage(err));
  } finally {
    store.close();
  }
}
