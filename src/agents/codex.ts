import { ending, field, jsonLines, lastLine, text, verdictOfMessage } from './text.js';
import type { AgentAdapter, Transcript, Verdict } from './types.js';

/**
 * OpenAI Codex, headless: `codex exec --json -`, the prompt on stdin. JSONL events; the answer is the
 * last `item.completed` whose item is an `agent_message`; a failure is `turn.failed` or `error`
 * ("exceeded retry limit, last status: 429 Too Many Requests", "You've hit your usage limit …").
 */
/**
 * No update check, analytics or feedback; no plugin lookups at start (they reach GitHub and
 * chatgpt.com); a refused connection fails instead of "waiting for network" forever.
 */
const QUIET = [
  'check_for_update_on_startup=false',
  'analytics.enabled=false',
  'feedback.enabled=false',
  'features.plugins=false',
  'features.unbounded_connection_retries=false',
];

export const codex: AgentAdapter = {
  name: 'codex',
  bin: 'codex',
  invoke({ prompt, model, args, bin }) {
    const argv = [bin ?? 'codex', 'exec', '--json', '--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox'];
    if (model) argv.push('--model', model);
    return {
      argv: [...argv, ...QUIET.flatMap((setting) => ['-c', setting]), ...args, '-'],
      stdin: prompt,
      env: {},
    };
  },
  classify(transcript: Transcript, now: number): Verdict {
    const events = jsonLines(transcript.stdout);
    const failure = events.findLast((e) => e.type === 'turn.failed' || e.type === 'error');
    if (failure) {
      const message = text(field(failure, 'error', 'message')) ?? text(failure.message) ?? 'codex reported an error';
      return verdictOfMessage(message, now, `${message}\n${transcript.stderr}`);
    }
    const answer = events.findLast((e) => e.type === 'item.completed' && field(e, 'item', 'type') === 'agent_message');
    if (transcript.exitCode === 0 && events.some((e) => e.type === 'turn.completed')) return { kind: 'success', summary: text(field(answer, 'item', 'text')) ?? null };
    const said = lastLine(transcript.stderr) ?? lastLine(transcript.stdout);
    return said ? verdictOfMessage(said, now, transcript.stderr, ending(transcript.stderr)) : { kind: 'failed', reason: 'no answer from codex' };
  },
};
