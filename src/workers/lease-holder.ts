import { errorMessage, Refused } from '../errors.js';
import type { RunIdentity } from '../core/run.js';
import type { BoardStore } from '../port/board.js';
import { monotonicMs } from '../clock.js';
import { recordingSilenceMs } from '../faults.js';

/** Why a run's supervisor must stop its worker before its lease runs out. */
export type LeaseLoss = 'silent' | 'unreachable' | 'taken back';

export interface LeaseHolderOptions {
  leaseMs: number;
  /** Renewed only while the run was heard from within this (KANBAN_HEARTBEAT_MAX_STALE_SECONDS), until its worker has exited (recordingExit). */
  maxStaleMs: number;
  /** The worker must be stopped this long before the lease could run out: time for it to die. */
  marginMs: number;
}

/**
 * Holds a run's lease on a board other hosts share (issue 14). Another host may take the run back
 * once its lease has run out, and cannot reach its processes; so the supervisor renews the lease
 * itself, every third of the lease, while the run was heard from within MAX_STALE, and calls
 * `onLost` when the worker must stop: the run was taken back (a renewal refused), it went silent,
 * or no renewal got through. The deadline is counted on this host's monotonic clock from when the
 * last write that moved the lease was *sent*: the database set the lease no earlier than that, so
 * however far this host's clock is from the database's, the worker is stopped `marginMs` before any
 * host may see the lease expired. Once the worker has exited (recordingExit) there is nothing left to
 * stop: the run is held, with no deadline, until its ending is written.
 */
export class LeaseHolder {
  private deadline: number;
  /** The worker has exited: its ending is being written. */
  private recording = false;
  /** Renewals that failed in a row (the first few are logged, then one in 20). */
  private failures = 0;
  private silent = false;
  private closed = false;
  private renewTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly board: BoardStore,
    private readonly identity: RunIdentity,
    private readonly options: LeaseHolderOptions,
    private readonly onLost: (why: LeaseLoss) => void,
    private readonly note: (line: string) => void,
    /** When the last write that moved the lease was sent (monotonic ms). */
    leaseMovedAt: number,
    private readonly monotonic: () => number = () => monotonicMs(),
  ) {
    this.deadline = leaseMovedAt + options.leaseMs - options.marginMs;
    this.armDeadline();
    this.scheduleRenewal(0);
  }

  /** Another write of this run moved the lease (a heartbeat the supervisor sent at `sentAt`, monotonic). */
  moved(sentAt: number): void {
    this.silent = false;
    this.extendTo(sentAt + this.options.leaseMs - this.options.marginMs);
  }

  /**
   * The worker has exited and its supervisor is writing how (which it keeps trying for
   * RECORD_PATIENCE_MS through a failing board): the run stays held, renewed at once and then as
   * before, while it was heard from within recordingSilenceMs, as the run's own host extends it
   * (dispatcher/judge.ts); renewals that fail are tried again with no deadline, since there is no
   * worker left to stop. Else another host would take back a run that ended well, and count it as a
   * failure, whenever writing its ending outlasts the lease. Ends when it is closed, taken back, or
   * silent past that.
   */
  recordingExit(): void {
    if (this.closed || this.recording) return;
    this.recording = true;
    clearTimeout(this.deadlineTimer);
    clearTimeout(this.renewTimer);
    this.scheduleRenewal(0);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.renewTimer);
    clearTimeout(this.deadlineTimer);
  }

  /** Renewed only while the run was heard from within this. */
  private get renewWithinMs(): number {
    return this.recording ? recordingSilenceMs(this.options.maxStaleMs) : this.options.maxStaleMs;
  }

  private get interval(): number {
    return Math.max(100, this.options.leaseMs / 3);
  }

  private scheduleRenewal(delayMs: number): void {
    if (this.closed) return;
    this.renewTimer = setTimeout(() => void this.renew(), delayMs);
    this.renewTimer.unref();
  }

  /** One renewal; the next is scheduled at once, so a renewal that hangs (a partition) never delays the deadline or the next try. */
  private async renew(): Promise<void> {
    this.scheduleRenewal(this.interval);
    const sentAt = this.monotonic();
    try {
      const { renewed } = await this.board.lease.renew(this.identity, { maxStaleMs: this.renewWithinMs });
      if (this.closed) return;
      this.failures = 0;
      this.silent = !renewed;
      if (renewed) this.extendTo(sentAt + this.options.leaseMs - this.options.marginMs);
      else if (this.recording) this.lose('silent');
    } catch (err) {
      if (this.closed) return;
      if (err instanceof Refused) return this.lose('taken back');
      this.failures++;
      if (this.failures <= 3 || this.failures % 20 === 0) this.note(`could not renew the lease (${this.failures} in a row): ${errorMessage(err)}`);
    }
  }

  private extendTo(deadline: number): void {
    if (deadline <= this.deadline) return;
    this.deadline = deadline;
    this.armDeadline();
  }

  private armDeadline(): void {
    clearTimeout(this.deadlineTimer);
    if (this.closed || this.recording) return;
    this.deadlineTimer = setTimeout(() => this.lose(this.silent ? 'silent' : 'unreachable'), Math.max(0, this.deadline - this.monotonic()));
    this.deadlineTimer.unref();
  }

  private lose(why: LeaseLoss): void {
    if (this.closed) return;
    this.close();
    this.onLost(why);
  }
}
