/**
 * Time that may jump. Board timestamps are wall-clock milliseconds, and the wall clock can be stepped
 * (NTP, a suspended laptop, a person, `faketime`): forward by two hours, every healthy run looks
 * silent; back by ten minutes, a dead run looks as if it just started. Two rules keep steps from
 * deciding anything:
 *
 * - `Elapsed` (silence, lease time): a long-running dispatcher reads the wall clock once per stamp,
 *   when it first sees it, and from then on counts on its own monotonic clock, so a step while it runs
 *   changes nothing; a stamp in the future (the clock went back since) counts from zero. A fresh one
 *   (one-shot `kanban dispatch`) has only the wall clock, clamped the same way.
 * - `startedLongAgo` (crash grace, ages of runs): a start in the future means the clock went back
 *   since the run started; it is not recent, so a dead run is never hidden by a backward step.
 */
export class Elapsed {
  private readonly seen = new Map<string, { stamp: number; firstAgeMs: number; firstSeenAt: number; tick: number }>();
  private tick = 0;

  constructor(private readonly monotonic: () => number = () => performance.now()) {}

  /** Call once per tick: what was not looked at during the previous tick is forgotten (its run ended). */
  beginTick(): void {
    this.tick++;
    for (const [key, entry] of this.seen) if (entry.tick < this.tick - 1) this.seen.delete(key);
  }

  /** How long ago the wall-clock time `stamp` was, as this process can best tell (never negative). */
  since(key: string, stamp: number, wallNow: number): number {
    const now = this.monotonic();
    const entry = this.seen.get(key);
    if (entry && entry.stamp === stamp) {
      entry.tick = this.tick;
      return entry.firstAgeMs + (now - entry.firstSeenAt);
    }
    const firstAgeMs = Math.max(0, wallNow - stamp);
    this.seen.set(key, { stamp, firstAgeMs, firstSeenAt: now, tick: this.tick });
    return firstAgeMs;
  }
}

/** Whether a run that started at `startedAt` is older than `graceMs`; a start in the future is (see above). */
export function startedLongAgo(now: number, startedAt: number, graceMs: number): boolean {
  const age = now - startedAt;
  return age < 0 || age > graceMs;
}
