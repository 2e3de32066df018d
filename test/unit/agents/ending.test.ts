import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../../src/agents/types.js';
import { decideEnding, type EndingFacts } from '../../../src/core/ending.js';

const NOW = Date.UTC(2026, 10, 30, 17, 0, 0);
const MIN = 60_000;

/** A run that exited 0 with the given verdict, under a `coder` profile with the defaults. */
function facts(verdict: Verdict, more: Partial<EndingFacts> = {}): EndingFacts {
  return {
    exitCode: 0,
    signal: null,
    stoppedFor: null,
    idleTimeoutSeconds: null,
    verdict,
    onCleanExit: 'violation',
    onSuccess: 'complete',
    profile: 'coder',
    now: NOW,
    cooldown: { defaultMs: 5 * MIN, maxMs: 60 * MIN },
    ...more,
  };
}

describe('decideEnding: success', () => {
  it('on_success complete: completed with the answer as summary', () => {
    expect(decideEnding(facts({ kind: 'success', summary: 'All done' }))).toEqual({ outcome: 'completed', summary: 'All done', error: null });
  });

  it('on_success review: review with the answer as summary', () => {
    expect(decideEnding(facts({ kind: 'success', summary: 'All done' }, { onSuccess: 'review' }))).toEqual({ outcome: 'review', summary: 'All done', error: null });
  });

  it('success says nothing of on_clean_exit', () => {
    for (const onCleanExit of ['violation', 'complete', 'review'] as const) {
      expect(decideEnding(facts({ kind: 'success', summary: null }, { onCleanExit })).outcome).toBe('completed');
    }
  });
});

describe('decideEnding: clean exit (exit 0 without reporting)', () => {
  it.each([
    ['violation', 'protocol_violation'],
    ['complete', 'completed'],
    ['review', 'review'],
  ] as const)('on_clean_exit %s → %s', (onCleanExit, outcome) => {
    const ending = decideEnding(facts({ kind: 'clean_exit' }, { onCleanExit }));
    expect(ending.outcome).toBe(outcome);
    expect(ending.summary).toBeNull();
    if (outcome === 'protocol_violation') expect(ending.error).toBe('exited 0 without completing or blocking the task');
    else expect(ending.error).toBeNull();
  });

  it('on_success does not change what a clean exit means', () => {
    expect(decideEnding(facts({ kind: 'clean_exit' }, { onSuccess: 'review', onCleanExit: 'complete' })).outcome).toBe('completed');
  });
});

describe('decideEnding: rate limited', () => {
  const limited = (retryAt: number | null): Verdict => ({ kind: 'rate_limited', reason: 'API Error: 429 rate_limit_error', retryAt });

  it('the reported reset time is the cooldown', () => {
    const ending = decideEnding(facts(limited(NOW + 7 * MIN), { exitCode: 1 }));
    expect(ending).toMatchObject({ outcome: 'rate_limited', summary: null, cooldownMs: 7 * MIN });
    expect(ending.error).toBe('rate limited (exited 1): API Error: 429 rate_limit_error');
  });

  it('a reset time past the maximum is clamped to the maximum', () => {
    expect(decideEnding(facts(limited(NOW + 5 * 60 * MIN))).cooldownMs).toBe(60 * MIN);
  });

  it('a reset time already past is a cooldown of 0, never negative', () => {
    expect(decideEnding(facts(limited(NOW - 10 * MIN))).cooldownMs).toBe(0);
  });

  it('no reported time: the default cooldown', () => {
    expect(decideEnding(facts(limited(null))).cooldownMs).toBe(5 * MIN);
  });

  it('an empty reason leaves just how it ended', () => {
    expect(decideEnding(facts({ kind: 'rate_limited', reason: '', retryAt: null }, { exitCode: 75 })).error).toBe('rate limited (exited 75)');
  });
});

describe('decideEnding: credentials refused', () => {
  it('blocked, with a block reason naming the profile', () => {
    const ending = decideEnding(facts({ kind: 'auth', reason: '401: Invalid API key · Please run /login' }, { exitCode: 1 }));
    expect(ending.outcome).toBe('blocked');
    expect(ending.summary).toBeNull();
    expect(ending.blockReason).toBe('the credentials of profile coder were refused: 401: Invalid API key · Please run /login');
    expect(ending.error).toBe('credentials refused (exited 1): 401: Invalid API key · Please run /login');
    expect(ending.cooldownMs).toBeUndefined();
  });

  it('without a profile name: "the profile"', () => {
    expect(decideEnding(facts({ kind: 'auth', reason: 'invalid x-api-key' }, { profile: null })).blockReason).toMatch(/^the credentials of the profile were refused/);
  });
});

describe('decideEnding: an exit code the profile maps to blocked', () => {
  it('blocked with the worker\'s words as the reason, not "credentials refused"', () => {
    const ending = decideEnding(facts({ kind: 'blocked', reason: 'the repository is archived' }, { exitCode: 3 }));
    expect(ending).toEqual({ outcome: 'blocked', summary: null, error: 'blocked (exited 3): the repository is archived', blockReason: 'the repository is archived' });
  });

  it('a worker that said nothing: the reason says which exit and which profile', () => {
    expect(decideEnding(facts({ kind: 'blocked', reason: '' }, { exitCode: 3 })).blockReason).toBe('exited 3, which profile coder maps to blocked');
  });
});

describe('decideEnding: failures', () => {
  it('failed with a reason: crashed, "exited N: reason"', () => {
    expect(decideEnding(facts({ kind: 'failed', reason: 'ValueError: bad thing' }, { exitCode: 1 }))).toEqual({
      outcome: 'crashed',
      summary: null,
      error: 'exited 1: ValueError: bad thing',
    });
  });

  it('failed with an empty reason: the error is just "exited 3"', () => {
    expect(decideEnding(facts({ kind: 'failed', reason: '' }, { exitCode: 3 })).error).toBe('exited 3');
  });

  it('killed by a signal: crashed, "killed by SIGKILL" (what it said last is left out)', () => {
    expect(decideEnding(facts({ kind: 'failed', reason: 'half a line' }, { exitCode: null, signal: 'SIGKILL' }))).toEqual({
      outcome: 'crashed',
      summary: null,
      error: 'killed by SIGKILL',
    });
  });

  it('stopped for silence: hung, whatever the verdict', () => {
    for (const verdict of [{ kind: 'failed', reason: 'x' }, { kind: 'success', summary: 'done?' }, { kind: 'rate_limited', reason: '429', retryAt: null }] as Verdict[]) {
      const ending = decideEnding(facts(verdict, { exitCode: null, signal: 'SIGTERM', stoppedFor: 'idle', idleTimeoutSeconds: 900 }));
      expect(ending).toEqual({ outcome: 'hung', summary: null, error: 'no output and no heartbeat for 900s: stopped (SIGTERM)' });
    }
  });

  it('stopped before its lease ran out on a shared board: stale when silent, crashed when the board was out of reach', () => {
    for (const verdict of [{ kind: 'success', summary: 'done?' }, { kind: 'rate_limited', reason: '429', retryAt: null }] as Verdict[]) {
      expect(decideEnding(facts(verdict, { exitCode: null, signal: 'SIGTERM', stoppedFor: 'stale', maxStaleSeconds: 300 }))).toEqual({
        outcome: 'stale',
        summary: null,
        error: 'no output and no heartbeat for more than 300s: stopped before its lease ran out (SIGTERM)',
      });
      expect(decideEnding(facts(verdict, { exitCode: null, signal: 'SIGKILL', stoppedFor: 'lease' }))).toEqual({
        outcome: 'crashed',
        summary: null,
        error: 'stopped before its lease ran out: the board could not be reached to renew it (SIGKILL)',
      });
    }
  });

  it('stopped past its max runtime: timed_out, whatever the verdict', () => {
    for (const verdict of [{ kind: 'clean_exit' }, { kind: 'auth', reason: '401' }] as Verdict[]) {
      const ending = decideEnding(facts(verdict, { exitCode: null, signal: 'SIGKILL', stoppedFor: 'timeout' }));
      expect(ending).toEqual({ outcome: 'timed_out', summary: null, error: 'killed after its max runtime (SIGKILL)' });
    }
  });

  it('a worker that exited by itself after being told to stop: still hung / timed_out', () => {
    expect(decideEnding(facts({ kind: 'clean_exit' }, { exitCode: 0, stoppedFor: 'idle', idleTimeoutSeconds: 1 })).error).toBe('no output and no heartbeat for 1s: stopped');
    expect(decideEnding(facts({ kind: 'clean_exit' }, { exitCode: 143, stoppedFor: 'timeout' })).error).toBe('killed after its max runtime');
  });
});
