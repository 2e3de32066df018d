import { errorMessage, Refused } from '../errors.js';
import type { RunIdentity } from '../core/run.js';
import { SHIPPED_LOG_MAX_BYTES, type BoardStore } from '../port/board.js';
import { monotonicMs } from '../clock.js';

/** How often pending lines are shipped, and the most one piece holds. */
const SHIP_EVERY_MS = 1000;
const PIECE_MAX_BYTES = 64 * 1024;

/**
 * Ships a run's log lines to a board other hosts share (port's RunLogs), so that `kanban log` and the
 * drawer show them on every host: pieces of whole lines, at most every second (at once past 64 KiB).
 * Never fatal and bounded: while the board cannot take them, lines wait, the oldest dropped past
 * SHIPPED_LOG_MAX_BYTES (the board keeps no more of a run anyway; the host's file keeps all of it).
 */
export class LogShipper {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | null = null;
  private refused = false;
  /** Said once per outage, not on every try (the note is itself a log line, shipped in turn). */
  private failing = false;

  constructor(
    private readonly board: BoardStore,
    private readonly identity: RunIdentity,
    private readonly note: (line: string) => void = () => undefined,
  ) {}

  push(bytes: Buffer): void {
    if (this.refused) return;
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    while (this.pendingBytes > SHIPPED_LOG_MAX_BYTES && this.pending.length > 1) this.pendingBytes -= this.pending.shift()!.length;
    if (this.pendingBytes >= PIECE_MAX_BYTES) this.schedule(0);
    else this.schedule(SHIP_EVERY_MS);
  }

  /** Ships what is pending, within `timeoutMs` (the run is over: its last lines). */
  async close(timeoutMs = 5_000): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const deadline = monotonicMs() + timeoutMs;
    while (!this.refused && (this.sending || this.pending.length > 0) && monotonicMs() < deadline) {
      const remaining = deadline - monotonicMs();
      await Promise.race([this.sending ?? this.send(), new Promise((resolve) => setTimeout(resolve, remaining).unref())]);
    }
  }

  private schedule(delayMs: number): void {
    if (this.timer !== undefined && delayMs > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.send();
    }, delayMs);
    this.timer.unref();
  }

  private send(): Promise<void> {
    if (this.sending || this.pending.length === 0) return this.sending ?? Promise.resolve();
    const piece: Buffer[] = [];
    let bytes = 0;
    while (this.pending.length > 0 && (piece.length === 0 || bytes + this.pending[0]!.length <= PIECE_MAX_BYTES)) {
      const next = this.pending.shift()!;
      piece.push(next);
      bytes += next.length;
    }
    this.pendingBytes -= bytes;
    this.sending = this.board.logs.ship(this.identity, Buffer.concat(piece).toString('utf8')).then(
      () => {
        this.sending = null;
        if (this.failing) this.note('shipping the log to the board again');
        this.failing = false;
        if (this.pending.length > 0) this.schedule(this.pendingBytes >= PIECE_MAX_BYTES ? 0 : SHIP_EVERY_MS);
      },
      (err: unknown) => {
        this.sending = null;
        if (err instanceof Refused) {
          this.refused = true; // not this run's board any more: nothing more to ship
          return;
        }
        // Out of reach for now: the piece waits at the front, and is tried again.
        this.pending.unshift(...piece);
        this.pendingBytes += bytes;
        if (!this.failing) this.note(`could not ship the log to the board (kept here, tried again): ${errorMessage(err)}`);
        this.failing = true;
        this.schedule(SHIP_EVERY_MS);
      },
    );
    return this.sending;
  }
}
