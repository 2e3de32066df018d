import { describe, expect, it } from 'vitest';
import { looksLikeAuthFailure, looksRateLimited, parseRetryAt } from '../../../src/agents/text.js';

/**
 * Every `now` and every expected clock time is built with the local-time Date constructor, so the
 * expectations hold in any time zone (30 November has no daylight-saving change anywhere).
 */
const local = (day: number, hours: number, minutes = 0) => new Date(2026, 10, day, hours, minutes).getTime();
const NOW = local(30, 17, 0); // 30 Nov 2026, 5:00 PM local
const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;

describe('parseRetryAt: structured fields', () => {
  it.each([
    ['retry-after: 30', 30 * S],
    ['Retry-After: 30', 30 * S],
    ['{"retry_after": 12}', 12 * S],
    ['"resets_in_seconds": 120', 120 * S],
    ['{"error":{"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay": "34s"}]}}', 34 * S],
    ['retryDelay": "0.5s"', 500],
  ])('%s → now + %d ms', (text, offset) => {
    expect(parseRetryAt(text, NOW)).toBe(NOW + offset);
  });

  it('resets_at as epoch seconds and as epoch milliseconds', () => {
    const at = NOW + 2 * HOUR;
    expect(parseRetryAt(`resets_at: ${Math.floor(at / 1000)}`, NOW)).toBe(Math.floor(at / 1000) * 1000);
    expect(parseRetryAt(`{"resets_at": ${at}}`, NOW)).toBe(at);
    expect(parseRetryAt(`"rate_limit_event": {"reset_at": ${Math.floor(at / 1000)}}`, NOW)).toBe(Math.floor(at / 1000) * 1000);
  });

  it("Claude Code's 'limit reached|<epoch s>'", () => {
    const at = Math.floor((NOW + 3 * HOUR) / 1000);
    expect(parseRetryAt(`Claude AI usage limit reached|${at}`, NOW)).toBe(at * 1000);
  });

  it('an ISO 8601 reset time', () => {
    expect(parseRetryAt('rate limit resets at 2026-12-01T03:00:00Z', NOW)).toBe(Date.UTC(2026, 11, 1, 3, 0, 0));
    expect(parseRetryAt('{"reset_at": "2026-12-01T03:00:00.000+02:00"}', NOW)).toBe(Date.UTC(2026, 11, 1, 1, 0, 0));
  });
});

describe('parseRetryAt: words', () => {
  it.each([
    ['Please retry in 34.5s', 34_500],
    ['Rate limit reached for gpt-4o on tokens per min (TPM): Limit 30000, Used 29000. Please try again in 2.5s.', 2500],
    ['try again in 2 hours 5 minutes', 2 * HOUR + 5 * MIN],
    ['try again in 2 hours and 5 minutes', 2 * HOUR + 5 * MIN],
    ["You've hit your usage limit. Try again in 4 days 23 hours.", 4 * 24 * HOUR + 23 * HOUR],
    ['retry after 10 minutes', 10 * MIN],
    ['Please try again in 20ms.', 20],
    ['Please try again in 1m30s.', 90 * S],
    ['retry after 1h2m3s', HOUR + 2 * MIN + 3 * S],
    ['Please try again in 6m0.5s', 6 * MIN + 500],
  ])('%s → now + %d ms', (text, offset) => {
    expect(parseRetryAt(text, NOW)).toBe(NOW + offset);
  });

  it('"try again at 5:51 PM": later today when that time is still ahead', () => {
    expect(parseRetryAt('You have reached your limit, try again at 5:51 PM', NOW)).toBe(local(30, 17, 51));
  });

  it('"try again at 4:30 PM" when it is already past 4:30 today: tomorrow', () => {
    expect(parseRetryAt('try again at 4:30 PM', NOW)).toBe(new Date(2026, 11, 1, 16, 30).getTime());
  });

  it('a 24-hour time, and noon and midnight in 12-hour form', () => {
    expect(parseRetryAt('try again at 17:30', NOW)).toBe(local(30, 17, 30));
    expect(parseRetryAt('try again at 12:15 am', NOW)).toBe(new Date(2026, 11, 1, 0, 15).getTime());
    expect(parseRetryAt('try again at 12 pm', NOW)).toBe(new Date(2026, 11, 1, 12, 0).getTime());
  });

  it('"resets 3pm" (past today: tomorrow) and "resets 6pm" (today)', () => {
    expect(parseRetryAt('5-hour limit reached ∙ resets 3pm', NOW)).toBe(new Date(2026, 11, 1, 15, 0).getTime());
    expect(parseRetryAt('5-hour limit reached ∙ resets 6pm', NOW)).toBe(local(30, 18, 0));
  });

  it('a date and a time: "try again at Dec 3rd, 2026 9:00 AM"', () => {
    expect(parseRetryAt('try again at Dec 3rd, 2026 9:00 AM', NOW)).toBe(new Date(2026, 11, 3, 9, 0).getTime());
  });

  it('the same clock time whatever `now` is: the next occurrence after now', () => {
    const morning = local(30, 9, 0);
    expect(parseRetryAt('try again at 5:51 PM', morning)).toBe(local(30, 17, 51));
    const lateEvening = local(30, 23, 59);
    expect(parseRetryAt('try again at 5:51 PM', lateEvening)).toBe(new Date(2026, 11, 1, 17, 51).getTime());
  });

  it.each([
    'something went wrong',
    'TypeError: x is undefined',
    'exit status 2',
    'Rate limit exceeded', // a limit, but no time: the caller's default applies
    '429 Too Many Requests',
    '',
  ])('%j says nothing about when: null', (text) => {
    expect(parseRetryAt(text, NOW)).toBeNull();
  });
});

describe('a reset time with its zone', () => {
  const now = Date.parse('2026-11-30T19:30:00Z');

  it('"resets 8:48pm (UTC)" is 20:48 UTC, whatever the local zone', () => {
    expect(parseRetryAt("You've hit your 5-hour limit · resets 8:48pm (UTC)", now)).toBe(Date.parse('2026-11-30T20:48:00Z'));
  });

  it('"resets 5pm (Europe/Paris)" is 5 pm in Paris (16:00 UTC in winter), tomorrow once past', () => {
    expect(parseRetryAt('limit reached · resets 5pm (Europe/Paris)', Date.parse('2026-11-30T10:00:00Z'))).toBe(Date.parse('2026-11-30T16:00:00Z'));
    expect(parseRetryAt('limit reached · resets 5pm (Europe/Paris)', now)).toBe(Date.parse('2026-12-01T16:00:00Z'));
  });
});

describe('looksRateLimited / looksLikeAuthFailure', () => {
  const rateLimited = [
    '{"type":"error","error":{"type":"rate_limit_error","message":"This request would exceed the rate limit for your organization"}}',
    '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
    'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
    'Error code: 429 - {"error": {"message": "You exceeded your current quota", "type": "insufficient_quota", "code": "insufficient_quota"}}',
    '429 Too Many Requests',
    'exceeded retry limit, last status: 429 Too Many Requests',
    '{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}',
    "You've hit your usage limit. Upgrade to Pro or try again later.",
    'Claude AI usage limit reached|1764540000',
    'Your credit balance is too low to access the Anthropic API.',
    '503 Service Unavailable',
  ];
  const authFailures = [
    '{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}',
    'Invalid API key · Please run /login',
    'Incorrect API key provided: sk-proj-****. You can find your API key at https://platform.openai.com/account/api-keys.',
    '{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT"}}',
    'HTTP 401 Unauthorized',
    '{"type":"error","error":{"type":"permission_error","message":"Your API key does not have permission to use the specified resource."}}',
    'status: 403, Forbidden',
  ];
  const ordinary = [
    'TypeError: x is undefined',
    'exit status 2',
    'Error: ENOENT: no such file or directory, open \'/tmp/missing.json\'',
    'Traceback (most recent call last):\n  File "main.py", line 3, in <module>\nValueError: bad thing',
    'Segmentation fault (core dumped)',
    'npm test failed: 3 of 12 tests failed',
    // A number or a word that only looks like a limit: a crash that says it is still a crash.
    'SyntaxError: unexpected token at line 429 of main.py',
    'wrote 503 files to dist/',
    'src/quota.ts(12,3): error TS2345',
    'see billing.ts line 4',
  ];

  it.each(rateLimited)('rate limited, not auth: %s', (message) => {
    expect(looksRateLimited(message)).toBe(true);
    expect(looksLikeAuthFailure(message)).toBe(false);
  });

  it.each(authFailures)('an auth failure: %s', (message) => {
    expect(looksLikeAuthFailure(message)).toBe(true);
  });

  it.each(ordinary)('neither: %j', (message) => {
    expect(looksRateLimited(message)).toBe(false);
    expect(looksLikeAuthFailure(message)).toBe(false);
  });
});
