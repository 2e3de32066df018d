import type { TickResult } from '../dispatcher/context.js';
import type { DispatcherLoop } from '../dispatcher/loop.js';
import type { Settings } from '../settings.js';

export interface DispatcherState {
  enabled: boolean;
  paused: boolean;
  lastTickAt: number | null;
  lastResult: TickResult | null;
  lastError: string | null;
  /** What a person must fix: the config problem, else the last tick's failure. */
  problem: string | null;
  cap: number;
}

/**
 * The dispatcher loop as the board sees it: its state, told to listeners after every tick, and the
 * two things a person does to it (pause/resume, tick now). Null loop: `--no-dispatch`.
 */
export class DispatcherHandle {
  private readonly listeners = new Set<() => void>();
  lastError: string | null = null;

  constructor(
    private readonly loop: DispatcherLoop | null,
    private readonly settings: () => Settings,
    private readonly configProblem: () => string | null = () => null,
  ) {}

  state(): DispatcherState {
    return {
      enabled: this.loop !== null,
      paused: this.loop?.paused ?? false,
      lastTickAt: this.loop?.lastTickAt ?? null,
      lastResult: this.loop?.lastResult ?? null,
      lastError: this.lastError,
      problem: this.configProblem() ?? this.lastError,
      cap: this.settings().maxInProgress,
    };
  }

  /** Called by the loop's events. */
  changed(): void {
    for (const listener of this.listeners) listener();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  togglePause(): boolean {
    if (!this.loop) return false;
    if (this.loop.paused) this.loop.resume();
    else this.loop.pause();
    this.changed();
    return true;
  }

  tickNow(): boolean {
    if (!this.loop) return false;
    this.loop.tickNow();
    return true;
  }
}
