import { describe, expect, it } from 'vitest';
import { lastHeardAt, leaseExpired, pastGrace, staleSilence } from '../../../src/core/health.js';
import type { Card } from '../../../src/core/types.js';
import { cardDetail, runningLevel } from '../../../src/ui/cards.js';

describe('run health, one convention', () => {
  it('a span holds through its last millisecond: a lease at its end, a grace at its length', () => {
    expect(leaseExpired(1000, 1000)).toBe(false);
    expect(leaseExpired(1000, 1001)).toBe(true);
    expect(pastGrace(30_000, 30_000)).toBe(false);
    expect(pastGrace(30_001, 30_000)).toBe(true);
    expect(staleSilence(3_600_000, 3_600_000)).toBe(true);
    expect(staleSilence(3_599_999, 3_600_000)).toBe(false);
  });

  it('last heard from: the later of the last heartbeat and the start; null when neither is known', () => {
    expect(lastHeardAt({ last_heartbeat_at: 5, started_at: 3 })).toBe(5);
    expect(lastHeardAt({ last_heartbeat_at: null, started_at: 3 })).toBe(3);
    expect(lastHeardAt({ last_heartbeat_at: 2, started_at: 3 })).toBe(3); // a stamp from before a clock step
    expect(lastHeardAt({ last_heartbeat_at: null, started_at: null })).toBeNull();
  });

  it('a card at the very end of its lease says what the judge says: held, not expired', () => {
    const now = Date.UTC(2026, 11, 1, 12);
    const card = { status: 'running', claim_expires: now, last_heartbeat_at: now - 1000, started_at: now - 60_000, worker_pid: 42 } as unknown as Card;
    expect(cardDetail(card, now)).toBe('♥ 1s · lease 0s · pid 42');
    expect(runningLevel(card, now, { claimTtlMs: 900_000, heartbeatMaxStaleMs: 3_600_000 })).not.toBe('critical');
    expect(cardDetail(card, now + 1)).toBe('♥ 1s · lease expired · pid 42');
  });
});
