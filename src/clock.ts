/** Time is injected: the store and the dispatcher read it through a Clock so tests can move it. */
export interface Clock {
  /** Unix epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * Milliseconds on the monotonic clock, for deadlines and durations within one process (never stepped
 * like the wall clock). Read through `process.hrtime`, not `performance.now()`: the first touch of
 * the global `performance` loads perf_hooks, ~11 of Node's modules, which every short command would
 * pay for at start (issue 15's start-up goal).
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
