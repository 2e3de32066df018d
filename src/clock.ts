/** Time is injected: the store and the dispatcher read it through a Clock so tests can move it. */
export interface Clock {
  /** Unix epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
