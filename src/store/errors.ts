import { BoardCorrupt, BoardFault, BoardLocked, BoardUnusable, errorMessage, KanbanError, WriteOutcomeUnknown } from '../errors.js';

/**
 * The one place SQLite's error codes are read. What leaves the store is a core error (errors.ts):
 * the CLI, the dispatcher and the supervisor never see a driver's code.
 */

function sqliteCode(err: unknown): string | null {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : null;
}

const has = (err: unknown, ...prefixes: string[]) => prefixes.some((prefix) => sqliteCode(err)?.startsWith(prefix));

/** Another connection holds the lock: worth trying again in a moment. */
export const isBusy = (err: unknown): boolean => has(err, 'SQLITE_BUSY', 'SQLITE_LOCKED');
export const isIoError = (err: unknown): boolean => has(err, 'SQLITE_IOERR');
export const isCorruption = (err: unknown): boolean => has(err, 'SQLITE_CORRUPT', 'SQLITE_NOTADB');

/** The machine's faults, by code: what `BoardFault.fault` says. */
const FAULTS: Array<[string, string]> = [
  ['SQLITE_FULL', 'disk full'],
  ['SQLITE_IOERR', 'I/O error'],
  ['SQLITE_READONLY', 'board is read-only'],
  ['SQLITE_CANTOPEN', 'board cannot be opened'],
  ['SQLITE_NOMEM', 'out of memory'],
  ['SQLITE_PROTOCOL', 'board is locked'],
];

export function lockedError(path: string, busyTimeoutMs: number): BoardLocked {
  return new BoardLocked(`board ${path} is locked by another process (waited ${busyTimeoutMs} ms)`);
}

export function outcomeUnknown(err: unknown): WriteOutcomeUnknown {
  return new WriteOutcomeUnknown(
    `the write may or may not have been written (${sqliteCode(err)}: ${errorMessage(err)}); check with \`kanban list\` before trying again (a create retried with the same --idempotency-key is safe)`,
  );
}

/** `err` as a core error: a SQLite error mapped, anything else (ours, or not SQLite's) as it is. */
export function coreError(err: unknown, path: string, busyTimeoutMs: number): unknown {
  if (err instanceof KanbanError) return err;
  const code = sqliteCode(err);
  if (code === null) return err;
  if (isBusy(err)) return lockedError(path, busyTimeoutMs);
  if (isCorruption(err)) return new BoardCorrupt(errorMessage(err));
  const fault = FAULTS.find(([prefix]) => code.startsWith(prefix))?.[1];
  const message = `board error (${code}): ${errorMessage(err)}`;
  return fault ? new BoardFault(fault, message) : new BoardUnusable(message);
}
