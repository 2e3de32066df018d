import { closeSync, futimesSync, openSync, statSync } from 'node:fs';
import { monotonicMs } from '../clock.js';

/**
 * Fair turns at a SQLite board's write lock between processes (issue 15). SQLite has no queue: a
 * process writing back to back takes the lock again microseconds after it let it go, while the others
 * sleep between tries, so one dispatcher could take nearly every claim while the others waited for
 * seconds. So a writer that met the board busy says so (it touches `<board>-wait`), and one that has
 * been writing back to back for STREAK_MS since someone said so leaves the board alone for COURTESY_MS,
 * longer than any waiter sleeps between tries (busyBackoff): the waiter gets its turn, and the roles
 * swap. A writer alone never pauses (nobody touched the mark), and one that writes now and then
 * never streaks.
 */

/** Writes starting within this of the last one's end are back to back. */
const STREAK_GAP_MS = 2;
/** Back to back this long while another process waits: leave it a turn. */
const STREAK_MS = 20;
/** The longest a writer that met the board busy sleeps between tries. */
export const WAIT_POLL_MAX_MS = 8;
/** The turn left to the others: longer than their longest sleep between tries. */
const COURTESY_MS = 12;
/** A waiter says so at most this often. */
const MARK_EVERY_MS = 5;

/** The two clocks turns are timed by: a monotonic one for streaks, and the wall clock the mark's mtime is written in. */
export interface TurnClock {
  monotonic(): number;
  wall(): number;
}

const realClock: TurnClock = { monotonic: () => monotonicMs(), wall: () => Date.now() };

export class WriteTurns {
  private lastWriteEnd = -Infinity;
  private streakStart = 0;
  /** The wall time this process last touched the mark (its own wait is not another's). */
  private markedAt = -Infinity;

  /** `mark`: the file waiters touch (null: a board in memory, which no other process shares). */
  constructor(
    private readonly mark: string | null,
    private readonly clock: TurnClock = realClock,
  ) {}

  /** Before a write: a writer on a streak that kept another waiting leaves it a turn. */
  async before(): Promise<void> {
    if (this.mark === null) return;
    const now = this.clock.monotonic();
    if (now - this.lastWriteEnd > STREAK_GAP_MS) {
      this.streakStart = now;
      return;
    }
    if (now - this.streakStart < STREAK_MS || !this.othersWaitedSince(this.streakStart)) return;
    await new Promise((resolve) => setTimeout(resolve, COURTESY_MS));
    this.streakStart = this.clock.monotonic();
  }

  /** A write committed (or failed) just now. */
  after(): void {
    this.lastWriteEnd = this.clock.monotonic();
  }

  /** This process met the board busy: it says so (best effort: a read-only or full disk just goes without). */
  waited(): void {
    if (this.mark === null) return;
    const now = this.clock.wall();
    if (now - this.markedAt < MARK_EVERY_MS) return;
    try {
      const fd = openSync(this.mark, 'a');
      try {
        futimesSync(fd, now / 1000, now / 1000);
      } finally {
        closeSync(fd);
      }
      this.markedAt = now;
    } catch {
      // no mark: fairness is lost for now, nothing else
    }
  }

  private othersWaitedSince(since: number): boolean {
    let touched: number | undefined;
    try {
      touched = statSync(this.mark!, { throwIfNoEntry: false })?.mtimeMs;
    } catch {
      return false;
    }
    if (touched === undefined || Math.abs(touched - this.markedAt) < 1) return false;
    return touched >= this.clock.wall() - (this.clock.monotonic() - since);
  }
}

/** How long a writer that met the board busy sleeps before its next try: jittered, growing, at most WAIT_POLL_MAX_MS. */
export function busyBackoff(attempt: number): number {
  const ceiling = Math.min(WAIT_POLL_MAX_MS, 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}
