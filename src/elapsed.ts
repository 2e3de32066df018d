import { pastGrace } from './core/health.js';
import { monotonicMs } from './clock.js';
/**
 * Time that may jump. Board timestamps are wall-clock milliseconds, and the wall clock can be stepped
 * (NTP, a suspended laptop, a person, `faketime`): forward by two hours, every healthy run looks
 * silent; back by ten minutes, a dead run looks as if it just started. Two rules keep steps from
 * deciding anything:
 *
 * - `Elapsed` (silence, lease time, run age): a long-running dispatcher reads the wall clock once per
 *   stamp, when it first sees it, and from then on counts on its own monotonic clock, so a step while
 *   it runs changes nothing; a stamp in the future (the clock went back since) counts from zero. It
 *   also watches its wall clock against its monotonic one from tick to tick: once the two have
 *   drifted apart by a step, a new stamp's wall-clock age is "unknown" (it may have been written in
 *   the other frame), not "expired", and counts from zero too; so does every age it knew, once it
 *   sees a step (an age first read in one frame is wrong in the other). A dispatcher that started after a
 *   step cannot see it: it takes a stamp's age on trust only once it has watched the stamp stay
 *   unchanged for a while (`watchedFor`). A one-tick one (`kanban dispatch`) has only the wall
 *   clock, clamped the same way.
 * - `startedLongAgo` (crash grace, ages of runs): a start in the future means the clock went back
 *   since the run started; it is not recent, so a dead run is never hidden by a backward step.
 */
export class Elapsed {
  private readonly seen = new Map<string, { stamp: number; firstAgeMs: number; firstSeenAt: number; tick: number }>();
  private tick = 0;
  private last: { wall: number; mono: number } | null = null;
  /** How far the wall clock has been stepped, in all, since this process started watching it. */
  private skewMs = 0;

  /**
   * @param longLived one Elapsed for a process's life (a dispatcher), not for one tick (`kanban
   *   dispatch`): it can watch a stamp before it judges it (see `watchedFor`).
   */
  constructor(
    private readonly monotonic: () => number = () => monotonicMs(),
    private readonly longLived = false,
  ) {}

  /**
   * Call once per tick, with the tick's wall-clock time: what was not looked at during the previous
   * tick is forgotten (its run ended), and a step of the wall clock since the last tick is noted.
   */
  beginTick(wallNow?: number): void {
    this.tick++;
    for (const [key, entry] of this.seen) if (entry.tick < this.tick - 1) this.seen.delete(key);
    if (wallNow === undefined) return;
    const mono = this.monotonic();
    if (this.last) {
      const step = wallNow - this.last.wall - (mono - this.last.mono);
      this.skewMs += step;
      // An age first read from the wall clock in the other frame is wrong by the step: every age
      // known counts afresh from here (a step delays a judgement, never hastens one).
      if (Math.abs(step) >= STEP_TOLERANCE_MS) {
        for (const entry of this.seen.values()) Object.assign(entry, { firstAgeMs: 0, firstSeenAt: mono });
      }
    }
    this.last = { wall: wallNow, mono };
  }

  /** The wall clock is where it was when this process started watching it (within STEP_TOLERANCE_MS). */
  get wallTrusted(): boolean {
    return Math.abs(this.skewMs) < STEP_TOLERANCE_MS;
  }

  /** How long ago the wall-clock time `stamp` was, as this process can best tell (never negative). */
  since(key: string, stamp: number, wallNow: number): number {
    const now = this.monotonic();
    const entry = this.seen.get(key);
    if (entry && entry.stamp === stamp) {
      entry.tick = this.tick;
      return entry.firstAgeMs + (now - entry.firstSeenAt);
    }
    const firstAgeMs = this.wallTrusted ? Math.max(0, wallNow - stamp) : 0;
    this.seen.set(key, { stamp, firstAgeMs, firstSeenAt: now, tick: this.tick });
    return firstAgeMs;
  }

  /** One Elapsed for a dispatcher's life (long-lived: see `watchedFor`). */
  static forLife(monotonic?: () => number): Elapsed {
    return new Elapsed(monotonic, true);
  }

  /**
   * Whether this process has watched `key` keep its current stamp for `ms` (monotonic) since it first
   * saw it. A stamp first seen old may be from before a step of the wall clock that this process did
   * not see (it started after the step): a long-lived process takes that age on trust only once the
   * stamp has stayed unchanged that long. A one-tick Elapsed has only the wall clock: always true.
   */
  watchedFor(key: string, ms: number): boolean {
    if (!this.longLived) return true;
    const entry = this.seen.get(key);
    return entry !== undefined && this.monotonic() - entry.firstSeenAt >= ms;
  }

  /**
   * How long ago a run started: as `since`, except that a start in the future, while the wall clock
   * is trusted, is long ago (the clock went back since it started): a backward step hides no dead run.
   */
  ageOfStart(key: string, startedAt: number, wallNow: number): number {
    if (this.wallTrusted && startedAt > wallNow) return Infinity;
    return this.since(key, startedAt, wallNow);
  }
}

/** Drift between the wall clock and the monotonic one beyond this is a step, not jitter. */
export const STEP_TOLERANCE_MS = 2000;

/** Whether a run that started at `startedAt` is older than `graceMs`; a start in the future is (see above). */
export function startedLongAgo(now: number, startedAt: number, graceMs: number): boolean {
  const age = now - startedAt;
  return age < 0 || pastGrace(age, graceMs);
}
