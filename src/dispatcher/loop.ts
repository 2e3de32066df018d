import type { TickResult } from './context.js';

export interface LoopEvents {
  onTick(result: TickResult): void;
  onError(err: unknown): void;
}

/** The longest wait between ticks while the board or the machine keeps failing them. */
export const MAX_FAULT_BACKOFF_MS = 60_000;

/**
 * Runs a tick every interval until stopped: the loop `kanban tui --no-ui` and the board share. One
 * tick at a time: a stop or a pause asked for during a tick takes effect once it has ended.
 * While ticks meet a fault of the board or the machine (disk full, read-only, locked), the wait
 * doubles each time, up to a minute, and is back to the interval after the first good tick.
 */
export class DispatcherLoop {
  paused = false;
  lastTickAt: number | null = null;
  lastResult: TickResult | null = null;
  /** Ticks in a row that met a fault of the board or the machine. */
  faultyTicks = 0;
  private stopped = false;
  private forceTick = false;
  private wake: (() => void) | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly tick: () => Promise<TickResult>,
    private readonly intervalMs: () => number,
    private readonly events: LoopEvents,
  ) {}

  /** Resolves once stopped. */
  async run(): Promise<void> {
    while (!this.stopped) {
      if (!this.paused || this.forceTick) {
        this.forceTick = false;
        await this.tickOnce();
      }
      if (this.stopped) break;
      if (this.forceTick) continue; // asked for while that tick ran
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, this.nextWaitMs());
      });
      clearTimeout(this.timer);
      this.wake = null;
    }
  }

  /** Stops after the tick under way, if any. */
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.wake?.();
  }

  /** A tick now, paused or not. */
  tickNow(): void {
    this.forceTick = true;
    this.wake?.();
  }

  /** How long until the next tick: the interval, or the backoff while ticks meet faults. */
  nextWaitMs(): number {
    const interval = this.intervalMs();
    if (this.faultyTicks === 0) return interval;
    return Math.max(interval, Math.min(MAX_FAULT_BACKOFF_MS, interval * 2 ** this.faultyTicks));
  }

  private async tickOnce(): Promise<void> {
    try {
      const result = await this.tick();
      this.lastTickAt = result.at;
      this.lastResult = result;
      this.faultyTicks = result.fault === null ? 0 : this.faultyTicks + 1;
      this.events.onTick(result);
    } catch (err) {
      this.faultyTicks++;
      this.events.onError(err);
    }
  }
}
