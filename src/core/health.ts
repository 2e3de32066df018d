/**
 * How a running task's health is judged: one definition each, with one boundary convention, for
 * the judge, the reaper, `reclaim --stale`, the diagnostics rules, the cards and `show`. Pure.
 *
 * The convention: a span holds through its last millisecond. A lease ending at `t` is still held at
 * `t` and expired after it; a grace of `g` covers an age of exactly `g`; silence counts as stale
 * once it reaches MAX_STALE (the limit is how long silence is allowed, not a span that holds).
 */

/** When a run was last heard from: its last heartbeat, or its start when it has none (null: neither known). */
export function lastHeardAt(times: { last_heartbeat_at: number | null; started_at: number | null }): number | null {
  if (times.last_heartbeat_at === null && times.started_at === null) return null;
  return Math.max(times.last_heartbeat_at ?? -Infinity, times.started_at ?? -Infinity);
}

/** A lease ending at `claimExpires` is expired after it, not at it. */
export function leaseExpired(claimExpires: number, now: number): boolean {
  return now > claimExpires;
}

/** Past a grace of `graceMs` at an age of `ageMs`: more than the grace, not equal to it. */
export function pastGrace(ageMs: number, graceMs: number): boolean {
  return ageMs > graceMs;
}

/** Silent too long: silence of MAX_STALE or more. */
export function staleSilence(silentMs: number, maxStaleMs: number): boolean {
  return silentMs >= maxStaleMs;
}
