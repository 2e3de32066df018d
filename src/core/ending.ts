import type { Verdict } from '../agents/types.js';
import type { RunOutcome } from '../core/types.js';

/**
 * How a run ends, decided once from what was seen: the exit, why the supervisor stopped the worker
 * (if it did), and the verdict the profile's classifier read from the output. Pure; the store applies
 * it in one fenced transition:
 * - `completed`: done (with the agent's answer as summary); `review`: to the review lane;
 * - `rate_limited`: back to ready, not counted, no respawn for `cooldownMs`;
 * - `blocked`: a sticky block (credentials refused, or an exit code the profile maps to blocked:
 *   retrying cannot help), not counted;
 * - `crashed hung stale timed_out protocol_violation`: counted toward the circuit breaker.
 */
export interface Ending {
  outcome: Extract<RunOutcome, 'completed' | 'review' | 'rate_limited' | 'blocked' | 'crashed' | 'hung' | 'stale' | 'timed_out' | 'protocol_violation'>;
  summary: string | null;
  /** What went wrong, in one line, for the run's `error` (and the breaker's diagnostic). */
  error: string | null;
  /** rate_limited: how long to wait before the next run. */
  cooldownMs?: number;
  /** blocked: the task's status_reason. */
  blockReason?: string;
}

export interface EndingFacts {
  exitCode: number | null;
  signal: string | null;
  /**
   * The supervisor stopped the worker: past its max runtime, silent past its idle timeout, or, on a
   * board other hosts share, before its lease ran out: silent past MAX_STALE (`stale`), or the lease
   * could not be renewed (`lease`: the board was out of reach, not the task's doing).
   */
  stoppedFor: 'timeout' | 'idle' | 'stale' | 'lease' | null;
  idleTimeoutSeconds?: number | null;
  maxStaleSeconds?: number;
  verdict: Verdict;
  onCleanExit: 'violation' | 'complete' | 'review';
  onSuccess: 'complete' | 'review';
  profile: string | null;
  /** When the run ended (to turn a reported reset time into a wait). */
  now: number;
  cooldown: { defaultMs: number; maxMs: number };
}

export const EX_TEMPFAIL = 75;

export function decideEnding(facts: EndingFacts): Ending {
  const how = facts.signal !== null ? `killed by ${facts.signal}` : `exited ${facts.exitCode}`;
  if (facts.stoppedFor === 'timeout') return failed('timed_out', `killed after its max runtime${facts.signal ? ` (${facts.signal})` : ''}`);
  if (facts.stoppedFor === 'idle') return failed('hung', `no output and no heartbeat for ${facts.idleTimeoutSeconds ?? '?'}s: stopped${facts.signal ? ` (${facts.signal})` : ''}`);
  if (facts.stoppedFor === 'stale') return failed('stale', `no output and no heartbeat for more than ${facts.maxStaleSeconds ?? '?'}s: stopped before its lease ran out${facts.signal ? ` (${facts.signal})` : ''}`);
  if (facts.stoppedFor === 'lease') return failed('crashed', `stopped before its lease ran out: the board could not be reached to renew it${facts.signal ? ` (${facts.signal})` : ''}`);
  const verdict = facts.verdict;
  switch (verdict.kind) {
    case 'success':
      return { outcome: facts.onSuccess === 'review' ? 'review' : 'completed', summary: verdict.summary, error: null };
    case 'clean_exit':
      if (facts.onCleanExit === 'violation') return failed('protocol_violation', 'exited 0 without completing or blocking the task');
      return { outcome: facts.onCleanExit === 'review' ? 'review' : 'completed', summary: null, error: null };
    case 'rate_limited': {
      const reported = verdict.retryAt === null ? null : Math.max(0, verdict.retryAt - facts.now);
      const cooldownMs = reported === null ? facts.cooldown.defaultMs : Math.min(reported, facts.cooldown.maxMs);
      return { outcome: 'rate_limited', summary: null, error: `rate limited (${how})${said(verdict.reason)}`, cooldownMs };
    }
    case 'auth': {
      const whose = facts.profile ? `profile ${facts.profile}` : 'the profile';
      return { outcome: 'blocked', summary: null, error: `credentials refused (${how}): ${verdict.reason}`, blockReason: `the credentials of ${whose} were refused: ${verdict.reason}` };
    }
    case 'blocked': {
      // Not a credentials failure: the worker's own words are the reason a person reads.
      const whose = facts.profile ? `profile ${facts.profile}` : 'the profile';
      const blockReason = verdict.reason === '' ? `${how}, which ${whose} maps to blocked` : verdict.reason;
      return { outcome: 'blocked', summary: null, error: `blocked (${how})${said(verdict.reason)}`, blockReason };
    }
    case 'failed':
      return failed('crashed', facts.signal !== null ? how : `${how}${said(verdict.reason)}`);
  }
}

/** ": what the worker said", when it said anything. */
function said(reason: string): string {
  return reason === '' ? '' : `: ${reason}`;
}

function failed(outcome: 'crashed' | 'hung' | 'stale' | 'timed_out' | 'protocol_violation', error: string): Ending {
  return { outcome, summary: null, error };
}
