import { describe, expect, it } from 'vitest';
import { formatSpan, parseDuration, parseTime } from '../../src/time.js';

describe('parseDuration', () => {
  it.each([
    ['90', 90],
    ['90s', 90],
    ['15m', 900],
    ['2h', 7200],
    ['1d', 86400],
    ['0.5', 0.5],
    ['1.5m', 90],
    ['.25s', 0.25],
    [' 10s ', 10],
    ['2 hours', 7200],
    ['90 min', 5400],
    ['1 day', 86400],
    ['30 seconds', 30],
    ['2H', 7200],
  ])('%s is %d seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', 'soon', '-5', '5x', '1h30m', '1e3', 's', 'NaN', 'Infinity', '2 hourss', 'hours', '2 ms'])('rejects %j', (text) => {
    expect(() => parseDuration(text, 'delay')).toThrowError(new RegExp(`invalid delay '${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'`));
  });
});

describe('parseTime', () => {
  it('reads UTC and offset times exactly', () => {
    expect(parseTime('2026-12-01T09:00:00Z')).toBe(Date.UTC(2026, 11, 1, 9));
    expect(parseTime('2026-12-01T09:00:00.250Z')).toBe(Date.UTC(2026, 11, 1, 9, 0, 0, 250));
    expect(parseTime('2026-12-01T09:00+02:00')).toBe(Date.UTC(2026, 11, 1, 7));
    expect(parseTime('2026-12-01T09:00+0200')).toBe(Date.UTC(2026, 11, 1, 7));
  });

  it('reads a date or a time without offset as local time', () => {
    expect(parseTime('2026-12-01')).toBe(new Date(2026, 11, 1).getTime());
    expect(parseTime('2026-12-01T09:30')).toBe(new Date(2026, 11, 1, 9, 30).getTime());
    expect(parseTime('2026-12-01 09:30')).toBe(new Date(2026, 11, 1, 9, 30).getTime());
  });

  it.each(['tomorrow', '12/01/2026', '2026-13-01', '2026-02-30', '2026-12-01T25:00', 'March 7', '1700000000'])('rejects %j', (text) => {
    expect(() => parseTime(text)).toThrowError(/use ISO 8601/);
  });
});

describe('formatSpan', () => {
  it.each([
    [0, '0s'],
    [59_000, '59s'],
    [61_000, '1m'],
    [3_600_000, '1h'],
    [-90_000, '1m'],
    [2 * 86_400_000, '2d'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatSpan(ms)).toBe(text);
  });
});
