import type { TickResult } from './context.js';

export interface LoopEvents {
  onTick(result: TickResult): void;
  onError(err: unknown): void;
}

/**
 * Runs a tick every interval until stopped: the loop `kanban tui --no-ui` and the board share. The
 * tick is synchronous, so a stop, a pause or a signal always lands between ticks, never inside one.
 */
export class DispatcherLoop {
  paused = false;
  lastTickAt: number | null = null;
  lastResult: TickResult | null = null;
  private stopped = false;
  private forceTick = false;
  private wake: (() => void) | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly tick: () => TickResult,
    private readonly intervalMs: () => number,
    private readonly events: LoopEvents,
  ) {}

  /** Resolves once stopped. */
  async run(): Promise<void> {
    while (!this.stopped) {
      if (!this.paused || this.forceTick) this.tickOnce();
      this.forceTick = false;
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, this.intervalMs());
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

  private tickOnce(): void {
    try {
      const result = this.tick();
      this.lastTickAt = result.at;
      this.lastResult = result;
      this.events.onTick(result);
    } catch (err) {
      this.events.onError(err);
    }
  }
}
