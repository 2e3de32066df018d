import { describe, expect, it } from 'vitest';
import { decideFailure } from '../../../src/core/breaker.js';

describe('the circuit breaker', () => {
  const board = { limit: 2, limitSource: 'default' };
  it('counts up to the board limit, then gives up naming the last outcome', () => {
    expect(decideFailure({ consecutive_failures: 0, max_retries: null }, 'crashed', board)).toEqual({ failures: 1, limit: 2, limitSource: 'default', gaveUp: false, reason: null });
    expect(decideFailure({ consecutive_failures: 1, max_retries: null }, 'hung', board)).toEqual({ failures: 2, limit: 2, limitSource: 'default', gaveUp: true, reason: 'gave up after 2 failures (last: hung)' });
  });
  it("the task's max_retries comes before the board's", () => {
    expect(decideFailure({ consecutive_failures: 0, max_retries: 1 }, 'crashed', board)).toMatchObject({ limit: 1, limitSource: 'task', gaveUp: true, reason: 'gave up after 1 failure (last: crashed)' });
    expect(decideFailure({ consecutive_failures: 3, max_retries: 10 }, 'crashed', board)).toMatchObject({ failures: 4, gaveUp: false });
  });
});
