import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { busyBackoff, WAIT_POLL_MAX_MS, WriteTurns } from '../../src/store/turns.js';
import { tempDir } from '../helpers/board.js';

/**
 * Whether `promise` is still pending once the microtasks have run: a pause is a timer, which cannot
 * fire before the event loop turns; no pause settles in microtasks. (Waiting for a turn of the loop
 * instead let a machine stalled past the pause's 12 ms fire its timer first, and the test failed.)
 */
async function pending(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  for (let i = 0; i < 20; i++) await Promise.resolve();
  return !settled;
}

/** Writes back to back (no gap between one's end and the next's start) for `ms`. */
async function streak(turns: WriteTurns, ms: number): Promise<void> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    await turns.before();
    turns.after();
  }
}

describe('fair turns at the write lock (store/turns.ts)', () => {
  it('a writer alone never pauses, however long it writes back to back', async () => {
    const mark = join(tempDir(), 'board.db-wait');
    const turns = new WriteTurns(mark);
    await streak(turns, 60);
    expect(await pending(turns.before())).toBe(false);
    expect(existsSync(mark)).toBe(false);
  });

  it('one writing back to back while another process waits leaves it a turn, once, then writes on', async () => {
    const mark = join(tempDir(), 'board.db-wait');
    const writer = new WriteTurns(mark);
    const waiter = new WriteTurns(mark); // another process's connection to the same board
    await streak(writer, 5);
    waiter.waited();
    expect(existsSync(mark)).toBe(true);
    await busyFor(writer, 25);
    const paused = writer.before();
    expect(await pending(paused)).toBe(true);
    await paused;
    writer.after();
    expect(await pending(writer.before())).toBe(false); // a new streak: no second pause for the same wait
  });

  it('its own wait is not another process waiting', async () => {
    const mark = join(tempDir(), 'board.db-wait');
    const writer = new WriteTurns(mark);
    writer.waited();
    await busyFor(writer, 25);
    expect(await pending(writer.before())).toBe(false);
  });

  it('a board in memory has no turns to take', async () => {
    const turns = new WriteTurns(null);
    turns.waited();
    await busyFor(turns, 25);
    expect(await pending(turns.before())).toBe(false);
  });

  it('a waiter sleeps a growing, jittered while between tries, never longer than the turn a writer leaves it', () => {
    for (let attempt = 0; attempt < 20; attempt++) {
      for (let i = 0; i < 50; i++) {
        const ms = busyBackoff(attempt);
        expect(ms).toBeGreaterThan(0);
        expect(ms).toBeLessThanOrEqual(WAIT_POLL_MAX_MS);
        expect(ms).toBeGreaterThanOrEqual(Math.min(WAIT_POLL_MAX_MS, 2 ** attempt) / 2);
      }
    }
  });
});

/** Writes ending back to back for `ms` (their starts are not asked about: the streak they make is what matters). */
async function busyFor(turns: WriteTurns, ms: number): Promise<void> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    turns.after();
    await new Promise((resolve) => setImmediate(resolve));
  }
  turns.after();
}
