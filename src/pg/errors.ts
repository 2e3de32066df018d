import { BoardCorrupt, BoardFault, BoardLocked, BoardUnusable, errorMessage, KanbanError, WriteOutcomeUnknown } from '../errors.js';

/**
 * The one place PostgreSQL's error codes (SQLSTATE) and the driver's connection errors are read.
 * What leaves the adapter is a core error (errors.ts), as SQLite's adapter does with its codes.
 */

const sqlstate = (err: unknown): string | null => {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null;
};

/** The server could not be reached, or the connection was lost: the network's or the server's fault. */
export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && /^(ECONN|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|EPIPE|ENOENT|EAI_)/.test(code)) return true;
  const state = sqlstate(err);
  if (state !== null) return state.startsWith('08') || state === '57P01' || state === '57P02' || state === '57P03';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable/i.test(errorMessage(err));
}

/** Class by SQLSTATE: what BoardFault.fault says. */
const FAULTS: Array<[string, string]> = [
  ['53100', 'disk full'],
  ['53200', 'out of memory'],
  ['53', 'board server out of resources'],
  ['25006', 'board is read-only'],
  ['58', 'board server I/O error'],
];

/** `err` as a core error: PostgreSQL's mapped, ours (or anything not the database's) as it is. */
export function pgCoreError(err: unknown, board: string, phase: 'body' | 'commit' = 'body'): unknown {
  if (err instanceof KanbanError) return err;
  if (isConnectionError(err)) {
    // A connection lost while COMMIT was in flight may or may not have committed.
    if (phase === 'commit') {
      return new WriteOutcomeUnknown(`the write may or may not have been written (connection to ${board} lost at commit: ${errorMessage(err)}); check with \`kanban list\` before trying again (a create retried with the same --idempotency-key is safe)`);
    }
    return new BoardFault('board server unreachable', `board ${board} cannot be reached: ${errorMessage(err)}`);
  }
  const state = sqlstate(err);
  if (state === null) return err;
  if (state === '40001' || state === '40P01' || state === '55P03' || state === '57014') {
    return new BoardLocked(`board ${board} is busy: other writers kept conflicting with this one (${state}: ${errorMessage(err)})`);
  }
  if (state === 'XX001' || state === 'XX002') return new BoardCorrupt(errorMessage(err));
  const fault = FAULTS.find(([prefix]) => state.startsWith(prefix))?.[1];
  const message = `board error (PostgreSQL ${state}): ${errorMessage(err)}`;
  return fault ? new BoardFault(fault, message) : new BoardUnusable(message);
}
