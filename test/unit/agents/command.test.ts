import { describe, expect, it } from 'vitest';
import { commandVerdict, withRateLimitRules, type OutputRules } from '../../../src/agents/command.js';
import type { Transcript } from '../../../src/agents/types.js';

const NOW = Date.UTC(2026, 10, 30, 17, 0, 0);
const NO_RULES: OutputRules = { rateLimit: [], exitCodes: {} };

function exit(exitCode: number | null, stderr = '', stdout = '', signal: string | null = null): Transcript {
  return { exitCode, signal, stdout, stderr };
}

describe('commandVerdict: the exit-code map', () => {
  const rules: OutputRules = { rateLimit: [], exitCodes: { '2': 'completed', '3': 'blocked', '4': 'rate_limited', '5': 'crashed', '75': 'crashed' } };

  it('completed: success without a summary', () => {
    expect(commandVerdict(rules, exit(2, 'some noise'), NOW)).toEqual({ kind: 'success', summary: null });
  });

  it('blocked: a block (not a credentials failure), with the last stderr line as reason', () => {
    expect(commandVerdict(rules, exit(3, 'checking\nneeds a person\n'), NOW)).toEqual({ kind: 'blocked', reason: 'needs a person' });
  });

  it('rate_limited: with the retry time parsed from the output', () => {
    expect(commandVerdict(rules, exit(4, 'slow down: retry-after: 30'), NOW)).toEqual({ kind: 'rate_limited', reason: 'slow down: retry-after: 30', retryAt: NOW + 30_000 });
    expect(commandVerdict(rules, exit(4, 'no idea when'), NOW)).toEqual({ kind: 'rate_limited', reason: 'no idea when', retryAt: null });
  });

  it('crashed: failed with the last stderr line', () => {
    expect(commandVerdict(rules, exit(5, 'boom'), NOW)).toEqual({ kind: 'failed', reason: 'boom' });
  });

  it('a mapped 75 takes precedence over EX_TEMPFAIL', () => {
    expect(commandVerdict(rules, exit(75, 'not a limit here'), NOW)).toEqual({ kind: 'failed', reason: 'not a limit here' });
  });
});

describe('commandVerdict: without a map', () => {
  it('75 (EX_TEMPFAIL): rate limited, the retry time read from stdout or stderr', () => {
    expect(commandVerdict(NO_RULES, exit(75, 'quota hit', 'try again in 2 minutes'), NOW)).toEqual({ kind: 'rate_limited', reason: 'quota hit', retryAt: NOW + 120_000 });
    expect(commandVerdict(NO_RULES, exit(75), NOW)).toEqual({ kind: 'rate_limited', reason: '', retryAt: null });
  });

  it('0: a clean exit (the profile decides)', () => {
    expect(commandVerdict(NO_RULES, exit(0, 'all fine'), NOW)).toEqual({ kind: 'clean_exit' });
  });

  it('any other code: failed, with the last stderr line as reason (stdout when stderr is empty)', () => {
    const traceback = 'Traceback (most recent call last):\n  File "w.py", line 2, in <module>\n    raise ValueError("bad thing")\nValueError: bad thing\n\n';
    expect(commandVerdict(NO_RULES, exit(1, traceback, 'lots of stdout\n'), NOW)).toEqual({ kind: 'failed', reason: 'ValueError: bad thing' });
    expect(commandVerdict(NO_RULES, exit(1, '', 'the last words\n'), NOW)).toEqual({ kind: 'failed', reason: 'the last words' });
    expect(commandVerdict(NO_RULES, exit(1), NOW)).toEqual({ kind: 'failed', reason: '' });
  });

  it('killed by a signal: failed, never a clean exit', () => {
    expect(commandVerdict(NO_RULES, exit(null, 'half a', '', 'SIGKILL'), NOW)).toEqual({ kind: 'failed', reason: 'half a' });
  });

  it('a very long last line is bounded', () => {
    const verdict = commandVerdict(NO_RULES, exit(1, 'x'.repeat(5000)), NOW);
    expect(verdict.kind).toBe('failed');
    expect((verdict as { reason: string }).reason.length).toBeLessThanOrEqual(501);
  });
});

describe('rate_limit patterns', () => {
  const rules: OutputRules = { rateLimit: [/quota exceeded/i, /slow ?down/i], exitCodes: {} };

  it('a failed run whose stderr matches: rate limited, the retry time parsed', () => {
    expect(commandVerdict(rules, exit(1, 'Quota Exceeded, try again in 30 seconds'), NOW)).toEqual({
      kind: 'rate_limited',
      reason: 'Quota Exceeded, try again in 30 seconds (matched rate_limit /quota exceeded/)',
      retryAt: NOW + 30_000,
    });
  });

  it('matching stdout counts too', () => {
    expect(commandVerdict(rules, exit(1, 'error', 'please slow down'), NOW)).toMatchObject({ kind: 'rate_limited', retryAt: null });
  });

  it('no match: failed with the last stderr line', () => {
    expect(commandVerdict(rules, exit(1, 'ValueError: bad thing'), NOW)).toEqual({ kind: 'failed', reason: 'ValueError: bad thing' });
  });

  it('a clean exit or a success is never turned into a rate limit', () => {
    expect(commandVerdict(rules, exit(0, 'quota exceeded earlier, recovered'), NOW)).toEqual({ kind: 'clean_exit' });
    const success = { kind: 'success', summary: 'fine despite the quota exceeded warning' } as const;
    expect(withRateLimitRules(rules, success, exit(0, 'quota exceeded'), NOW)).toBe(success);
  });

  it("withRateLimitRules turns an adapter's failed verdict into a rate limit, and leaves auth alone", () => {
    const transcript = exit(1, 'upstream said: quota exceeded (resets_in_seconds: 90)');
    expect(withRateLimitRules(rules, { kind: 'failed', reason: 'crashed' }, transcript, NOW)).toEqual({
      kind: 'rate_limited',
      reason: 'crashed (matched rate_limit /quota exceeded/)',
      retryAt: NOW + 90_000,
    });
    const auth = { kind: 'auth', reason: '401' } as const;
    expect(withRateLimitRules(rules, auth, transcript, NOW)).toBe(auth);
    expect(withRateLimitRules(NO_RULES, { kind: 'failed', reason: 'x' }, transcript, NOW)).toEqual({ kind: 'failed', reason: 'x' });
  });
});
