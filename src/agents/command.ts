import { EX_TEMPFAIL } from '../core/ending.js';
import { lastLine, parseRetryAt } from './text.js';
import type { Transcript, Verdict } from './types.js';

/** What a profile says about reading its runs, beside (or instead of) an adapter. */
export interface OutputRules {
  /** Patterns (case-insensitive) that mark a failed run's output as a rate limit. */
  rateLimit: readonly RegExp[];
  /** Exit codes with a meaning of their own. */
  exitCodes: Readonly<Record<string, 'completed' | 'rate_limited' | 'blocked' | 'crashed'>>;
}

/**
 * A plain command's verdict: the exit-code map first; 0 is a clean exit (its profile's on_clean_exit
 * decides); 75 (EX_TEMPFAIL) or output matching a `rate_limit` pattern is a rate limit; anything else
 * failed, with what the worker said last on stderr as the reason.
 */
export function commandVerdict(rules: OutputRules, transcript: Transcript, now: number): Verdict {
  const output = `${transcript.stdout}\n${transcript.stderr}`;
  const said = lastLine(transcript.stderr) ?? lastLine(transcript.stdout) ?? '';
  const mapped = transcript.exitCode === null ? undefined : rules.exitCodes[String(transcript.exitCode)];
  if (mapped === 'completed') return { kind: 'success', summary: null };
  if (mapped === 'blocked') return { kind: 'blocked', reason: said };
  if (mapped === 'rate_limited' || (mapped === undefined && transcript.exitCode === EX_TEMPFAIL)) {
    return { kind: 'rate_limited', reason: said, retryAt: parseRetryAt(output, now) };
  }
  if (mapped === undefined && transcript.exitCode === 0 && transcript.signal === null) return { kind: 'clean_exit' };
  const failed: Verdict = { kind: 'failed', reason: said };
  // An exit code the profile declared a crash stays one, whatever the output says.
  return mapped === 'crashed' ? failed : withRateLimitRules(rules, failed, transcript, now);
}

/** A failed run whose output matches one of the profile's `rate_limit` patterns is a rate limit after all. */
export function withRateLimitRules(rules: OutputRules, verdict: Verdict, transcript: Transcript, now: number): Verdict {
  if (verdict.kind !== 'failed' || rules.rateLimit.length === 0) return verdict;
  const output = `${transcript.stdout}\n${transcript.stderr}`;
  const hit = rules.rateLimit.find((pattern) => pattern.test(output));
  return hit ? { kind: 'rate_limited', reason: `${verdict.reason} (matched rate_limit /${hit.source}/)`, retryAt: parseRetryAt(output, now) } : verdict;
}
