import type { Card } from '../core/types.js';
import { cleanLine } from '../sanitize.js';
import { formatSpan } from '../time.js';
import { lastHeardAt, leaseExpired, staleSilence } from '../core/health.js';

/** How worried the board is about a card: drawn in the matching colour. */
export type Level = 'ok' | 'warning' | 'critical';

export interface Thresholds {
  claimTtlMs: number;
  heartbeatMaxStaleMs: number;
}

/**
 * A running card's health: critical once the lease has run out or nothing was heard for
 * MAX_STALE; warning in the last quarter of the lease or after half of MAX_STALE of silence.
 */
export function runningLevel(card: Card, now: number, limits: Thresholds): Level {
  const leaseLeft = (card.claim_expires ?? now) - now;
  const silent = now - (lastHeardAt(card) ?? now);
  if ((card.claim_expires !== null && leaseExpired(card.claim_expires, now)) || staleSilence(silent, limits.heartbeatMaxStaleMs)) return 'critical';
  if (leaseLeft < limits.claimTtlMs / 4 || silent >= limits.heartbeatMaxStaleMs / 2) return 'warning';
  return 'ok';
}

/** The card's first line: id, priority, assignee. */
export function cardHead(card: Pick<Card, 'id' | 'priority' | 'assignee'>): string {
  return `${card.id} P${card.priority}${card.assignee ? ` @${cleanLine(card.assignee)}` : ''}`;
}

/** The card's third line: what is particular to its status. */
export function cardDetail(card: Card, now: number): string {
  switch (card.status) {
    case 'running': {
      // Most telling first (a narrow column cuts the end): how long since it was heard of (♥), the lease left.
      const heard = lastHeardAt(card);
      const beat = heard === null ? 'no heartbeat' : `♥ ${formatSpan(now - heard)}`;
      const left = card.claim_expires === null ? '' : !leaseExpired(card.claim_expires, now) ? ` · lease ${formatSpan(card.claim_expires - now)}` : ' · lease expired';
      return `${beat}${left} · pid ${card.worker_pid ?? '—'}`;
    }
    case 'blocked': {
      const kind = card.block_kind === 'breaker' ? 'breaker' : 'sticky';
      const failures = card.consecutive_failures > 0 ? ` · ${plural(card.consecutive_failures, 'failure')}` : '';
      return `${kind}${failures}${card.status_reason ? `: ${card.status_reason}` : ''}`;
    }
    case 'scheduled':
      return card.scheduled_until === null ? 'scheduled' : card.scheduled_until > now ? `due in ${formatSpan(card.scheduled_until - now)}` : 'due now';
    case 'done':
    case 'archived':
      return card.summary ?? '';
    case 'review':
      return card.summary ?? '';
    case 'ready': {
      const failures = card.consecutive_failures > 0 ? plural(card.consecutive_failures, 'failure') : '';
      if (card.held_until === null || card.held_until <= now) return failures;
      // When first: a narrow card cuts the end.
      const why = card.held_by === 'rate_limited' ? 'rate limit' : "can't start";
      return [`retry ${formatSpan(card.held_until - now)} · ${why}`, failures].filter(Boolean).join(' · ');
    }
    default:
      return card.consecutive_failures > 0 ? plural(card.consecutive_failures, 'failure') : '';
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
