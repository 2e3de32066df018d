import { accessSync, constants, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { BoardFault, BoardLocked, BoardUnusable, errorMessage, WriteOutcomeUnknown } from './errors.js';

/**
 * Faults of the machine or of the board, never of a task: a full or read-only disk, an I/O error, a
 * board locked past the timeout, no memory or no process slots. A run that meets one is not counted
 * against its task (the task could do nothing about it) and the dispatcher backs off instead.
 */
const SYSTEM_CODES: Record<string, string> = {
  ENOSPC: 'disk full',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EIO: 'I/O error',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files',
  ENOMEM: 'out of memory',
  EAGAIN: 'no process slots',
};


/** What kind of infrastructure fault `err` is ("disk full", "I/O error", …), or null when it is not one. */
export function infrastructureFault(err: unknown): string | null {
  if (err instanceof BoardLocked) return 'board locked';
  if (err instanceof WriteOutcomeUnknown) return 'I/O error';
  if (err instanceof BoardFault) return err.fault;
  if (err instanceof BoardUnusable) return 'board unusable';
  const code = (err as { code?: unknown })?.code;
  if (typeof code !== 'string') return null;
  return Object.hasOwn(SYSTEM_CODES, code) ? SYSTEM_CODES[code]! : null;
}

/** A run that could not start or be recorded for such a fault is tried again after this, not counted. */
export const INFRASTRUCTURE_RETRY_MS = 30_000;

/** How long a supervisor keeps trying to record how its run ended while the board or the machine fails. */
export const RECORD_PATIENCE_MS = 10 * 60_000;

/**
 * How long a run whose worker has ended may stay silent and still held while its supervisor records
 * the exit: MAX_STALE, then the supervisor's patience. Its own host extends it so long (judge.ts), and
 * on a shared board its supervisor renews it so long (lease-holder.ts).
 */
export function recordingSilenceMs(maxStaleMs: number): number {
  return maxStaleMs + RECORD_PATIENCE_MS;
}

/** Faults that mean the board's disk will not take writes now (and may again later). */
export function isDiskFault(err: unknown): boolean {
  const kind = infrastructureFault(err);
  return kind === 'disk full' || kind === 'disk quota exceeded' || kind === 'read-only file system' || kind === 'I/O error' || kind === 'board is read-only';
}

/** Below this much free space on the board's disk, writes are about to fail: said before they do. */
export const LOW_DISK_BYTES = 1024 * 1024;

/**
 * Why the board's folder cannot take writes now (read-only, no permission, its disk full), asking
 * the file system; null when it can, as far as it can tell.
 */
export function boardDiskProblem(dbPath: string): string | null {
  const dir = dirname(dbPath);
  try {
    accessSync(dir, constants.W_OK);
  } catch (err) {
    return `board unwritable: its folder ${dir} cannot be written (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)})`;
  }
  try {
    const disk = statfsSync(dir);
    const free = disk.bavail * disk.bsize;
    if (free < LOW_DISK_BYTES) return `board unwritable: the disk holding ${dir} has ${Math.floor(free / 1024)} KiB free`;
  } catch {
    // no statfs here: the access check is all there is
  }
  return null;
}
