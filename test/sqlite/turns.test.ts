import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { busyBackoff, type TurnClock, WAIT_POLL_MAX_MS, WriteTurns } from '../../src/store/turns.js';
import { tempDir } from '../helpers/board.js';

/**
 * Whether `promise` is still pending once the microtasks have run: a pause is a timer, which cannot
 * fire before the event loop turns; no pause settles in microtasks.
 */
async function pending(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  for (let i = 0; i < 20; i++) await Promise.resolve();
  return !settled;
}

/**
 * A clock the test moves by hand, shared by every connection of a test. (On the real clock a loaded
 * machine that stalled for more than the 2 ms gap between two writes broke the streak, and the
 * test failed in CI.)
 */
function handClock(): TurnClock & { advance(ms: number): void } {
  let monotonic = 1_000;
  const wallAtZero = Date.UTC(2026, 11, 2);
  return {
    monotonic: () => monotonic,
    wall: () => wallAtZero + monotonic,
    advance: (ms) => (monotonic += ms),
  };
}

type HandClock = ReturnType<typeof handClock>;

/**
 * `ms` writes back to back on the hand clock, each taking 1 ms and starting as the last one ends;
 * returns how many of them paused first.
 */
async function streak(turns: WriteTurns, clock: HandClock, ms: number): Promise<number> {
  let pauses = 0;
  for (let i = 0; i < ms; i++) {
    const before = turns.before();
    if (await pending(before)) pauses++;
    await before;
    clock.advance(1);
    turns.after();
  }
  return pauses;
}

describe('fair turns at the write lock (store/turns.ts)', () => {
  it('a writer alone never pauses, however long it writes back to back', async () => {
    const mark = join(tempDir(), 'board.db-wait');
    const clock = handClock();
    const turns = new WriteTurns(mark, clock);
    expect(await streak(turns, clock, 60)).toBe(0);
    expect(existsSync(mark)).toBe(false);
  });

  it('one writing back to back while another process waits leaves it a turn, once, then writes on', async () => {
    const mark = join(tempDir(), 'board.db-wait');
    const clock = handClock();
    const writer = new WriteTurns(mark, clock);
    const waiter = new WriteTurns(mark, clock); // another process's connection to the same board
    expect(await streak(writer, clock, 5)).toBe(0);
    waiter.waited();
    expect(existsSync(mark)).toBe(true);
    expect(await streak(writer, clock, 15)).toBe(0); // 20 ms into the streak after this
    const paused = writer.before();
    expect(await pending(paused)).toBe(true);
    await paused;
    writer.after();
    expect(await streak(writer, clock, 60)).toBe(0); // a new streak: no second pause for the same wait
  });

  it('a gap between two writes ends the streak', async () => {
    const mark = join(tempDir(), 'board.db-wait');
    const clock = handClock();
    const writer = new WriteTurns(mark, clock);
    const waiter = new WriteTurns(mark, clock);
    expect(await streak(writer, clock, 15)).toBe(0);
    clock.advance(3);
    expect(await streak(writer, clock, 5)).toBe(0);
    waiter.waited();
    expect(await streak(writer, clock, 10)).toBe(0); // never 20 ms back to back
    expect(await streak(writer, clock, 10)).toBe(1); // and then it is
  });

  it('its own wait is not another process waiting', async () => {
    const mark = join(tempDir(), 'board.db-wait');
    const clock = handClock();
    const writer = new WriteTurns(mark, clock);
    writer.waited();
    expect(await streak(writer, clock, 60)).toBe(0);
  });

  it('a board in memory has no turns to take', async () => {
    const clock = handClock();
    const turns = new WriteTurns(null, clock);
    turns.waited();
    expect(await streak(turns, clock, 60)).toBe(0);
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
