import { ending, field, jsonLines, lastLine, text, verdictOfMessage, verdictOfStatus } from './text.js';
import type { AgentAdapter, Transcript, Verdict } from './types.js';

/**
 * Claude Code, headless: `claude -p --output-format stream-json --verbose`, the prompt on stdin.
 * Its last line is a `result` object; on an API error it is still `subtype: "success"` but
 * `is_error: true`, with `api_error_status` (429, 401, 529 …) and the provider's message as `result`.
 */
export const claude: AgentAdapter = {
  name: 'claude',
  bin: 'claude',
  invoke({ prompt, model, args, bin }) {
    const argv = [bin ?? 'claude', '-p', '--output-format', 'stream-json', '--verbose', '--dangerously-skip-permissions'];
    if (model) argv.push('--model', model);
    return {
      argv: [...argv, ...args],
      stdin: prompt,
      env: {
        // Fail fast: kanban owns the retry policy (a cooldown for limits, the breaker for failures),
        // so the CLI must not retry for minutes on its own, nor wait forever on a silent server.
        CLAUDE_CODE_MAX_RETRIES: '0',
        API_TIMEOUT_MS: '120000',
        CLAUDE_BYTE_STREAM_IDLE_TIMEOUT_MS: '120000',
        CLAUDE_CODE_DISABLE_NONSTREAMING_FALLBACK: '1',
        // Quiet: no telemetry, error reports, update checks or surveys.
        DISABLE_TELEMETRY: '1',
        DISABLE_ERROR_REPORTING: '1',
        DISABLE_AUTOUPDATER: '1',
        DISABLE_UPDATES: '1',
        DISABLE_BUG_COMMAND: '1',
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY: '1',
        // Unattended runs skip permission prompts; as root Claude Code allows that only in a sandbox.
        ...(process.getuid?.() === 0 ? { IS_SANDBOX: '1' } : {}),
      },
    };
  },
  classify(transcript: Transcript, now: number): Verdict {
    const events = jsonLines(transcript.stdout);
    const result = events.findLast((event) => event.type === 'result');
    if (result) {
      const message = text(result.result) ?? text(field(result, 'error')) ?? String(result.subtype ?? 'no result');
      const status = typeof result.api_error_status === 'number' ? result.api_error_status : undefined;
      if (result.is_error !== true && result.subtype === 'success' && transcript.exitCode === 0) return { kind: 'success', summary: text(result.result) ?? null };
      if (result.subtype === 'error_max_turns') return { kind: 'failed', reason: `stopped at its turn limit (error_max_turns)` };
      // A subscription's limit comes with the exact reset (epoch seconds) in a rate_limit_event; the result says it to the minute.
      const resetsAt = field(events.findLast((e) => e.type === 'rate_limit_event' && field(e, 'rate_limit_info', 'status') === 'rejected'), 'rate_limit_info', 'resetsAt');
      const retryText = `${typeof resetsAt === 'number' ? `resets_at: ${resetsAt}\n` : ''}${message}\n${transcript.stderr}`;
      return verdictOfStatus(status, `${status ? `${status}: ` : ''}${message}`, now, retryText) ?? verdictOfMessage(message, now, retryText);
    }
    const said = lastLine(transcript.stderr) ?? lastLine(transcript.stdout);
    if (said) return verdictOfMessage(said, now, transcript.stderr, ending(transcript.stderr));
    return { kind: 'failed', reason: 'no result from claude' };
  },
};
