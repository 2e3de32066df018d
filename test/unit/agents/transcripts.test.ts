import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADAPTERS } from '../../../src/agents/index.js';
import type { AgentName, Verdict } from '../../../src/agents/types.js';
import { fixture } from '../../helpers/processes.js';

/**
 * Every adapter's classifier on transcripts recorded from the real CLIs against a fake model server
 * (test/fixtures/agents/<cli>/<case>.{stdout,stderr,json}; the .json says which CLI version, argv and
 * exit). The verdict a case must get follows from its name.
 */
const EXPECTED: Array<[RegExp, Verdict['kind']]> = [
  // Codex reports a provider's 500 as "We're currently experiencing high demand": an overload, waited out.
  [/^codex\/server_error/, 'rate_limited'],
  [/^(answer|tool_call|slow)/, 'success'],
  [/^(rate_limit|usage_limit|quota|overloaded)/, 'rate_limited'],
  [/^auth/, 'auth'],
  [/^(server_error|max_turns|hang|unreachable)/, 'failed'],
];

interface Recording {
  exit_code: number | null;
  signal: string | null;
  version: string;
}

function cases(agent: AgentName): Array<[string, string]> {
  const dir = fixture(join('agents', agent));
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length));
  } catch {
    return [];
  }
  return names.sort().map((name) => [name, join(dir, name)]);
}

/** When the transcript was recorded, so a reset time it names is in the future of the classifier's clock. */
const RECORDED_AT = Date.parse('2026-11-30T19:30:00Z');

for (const agent of ['claude', 'codex', 'gemini', 'opencode'] as const) {
  const recorded = cases(agent);
  describe.skipIf(recorded.length === 0)(`the ${agent} classifier on recorded transcripts`, () => {
    it.each(recorded)('%s', (name, base) => {
      const meta = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as Recording;
      const transcript = { exitCode: meta.exit_code, signal: meta.signal, stdout: readFileSync(`${base}.stdout`, 'utf8'), stderr: readFileSync(`${base}.stderr`, 'utf8') };
      const expected = EXPECTED.find(([pattern]) => pattern.test(`${agent}/${name}`) || pattern.test(name))?.[1];
      expect(expected, `no expectation for the case name ${name}`).toBeDefined();
      const verdict = ADAPTERS[agent].classify(transcript, RECORDED_AT);
      expect(verdict.kind, JSON.stringify(verdict)).toBe(expected);
      if (verdict.kind === 'success') expect(verdict.summary, 'the answer is the summary').toBeTruthy();
      if (verdict.kind !== 'success' && verdict.kind !== 'clean_exit') expect(verdict.reason.length).toBeGreaterThan(0);
    });
  });
}

describe('reset times the agents reported', () => {
  const classify = (agent: AgentName, name: string) => {
    const base = join(fixture(join('agents', agent)), name);
    const meta = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as Recording;
    return ADAPTERS[agent].classify({ exitCode: meta.exit_code, signal: meta.signal, stdout: readFileSync(`${base}.stdout`, 'utf8'), stderr: readFileSync(`${base}.stderr`, 'utf8') }, RECORDED_AT);
  };

  it('Codex "try again at 8:50 PM" is the next 8:50 PM, local time', () => {
    const verdict = classify('codex', 'usage_limit');
    expect(verdict).toMatchObject({ kind: 'rate_limited', retryAt: expect.any(Number) });
    const at = new Date((verdict as { retryAt: number }).retryAt);
    expect([at.getHours(), at.getMinutes()]).toEqual([20, 50]);
    expect(at.getTime()).toBeGreaterThan(RECORDED_AT);
    expect(at.getTime()).toBeLessThanOrEqual(RECORDED_AT + 24 * 3_600_000);
  });

  it('Claude\'s usage limit resets when its rate_limit_event says (to the second)', () => {
    expect(classify('claude', 'usage_limit')).toMatchObject({ kind: 'rate_limited', retryAt: 1796071696 * 1000 });
  });

  it('Gemini "Please retry in 7.5s" is 7.5 s after the run ended', () => {
    expect(classify('gemini', 'rate_limit-stream-json')).toMatchObject({ kind: 'rate_limited', retryAt: RECORDED_AT + 7_500 });
  });

  it('a 429 that names no time leaves the cooldown to the default', () => {
    expect(classify('claude', 'rate_limit')).toMatchObject({ kind: 'rate_limited', retryAt: null });
    expect(classify('codex', 'rate_limit')).toMatchObject({ kind: 'rate_limited', retryAt: null });
  });
});
