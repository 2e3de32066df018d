import { field, jsonLines, lastLine, text, verdictOfMessage, verdictOfStatus } from './text.js';
import type { AgentAdapter, Transcript, Verdict } from './types.js';

/**
 * Gemini CLI, headless: `gemini --output-format stream-json --yolo`, the prompt on stdin. JSONL
 * events ending with a `result`; on an API error it exits with the HTTP status modulo 256 (429 → 173,
 * 503 → 247) and says so in an `error` event or on stderr.
 */
export const gemini: AgentAdapter = {
  name: 'gemini',
  bin: 'gemini',
  invoke({ prompt, model, args, bin }) {
    const argv = [bin ?? 'gemini', '--output-format', 'stream-json', '--yolo'];
    if (model) argv.push('--model', model);
    return { argv: [...argv, ...args], stdin: prompt, env: { GEMINI_CLI_NO_RELAUNCH: 'true' } };
  },
  classify(transcript: Transcript, now: number): Verdict {
    const events = jsonLines(transcript.stdout);
    const result = events.findLast((e) => e.type === 'result' || 'response' in e);
    const error = events.findLast((e) => e.type === 'error') ?? (result && 'error' in result ? result : undefined);
    if (transcript.exitCode === 0 && result && !field(result, 'error') && field(result, 'status') !== 'error') {
      const answer = events.filter((e) => e.type === 'message' && e.role === 'assistant').map((e) => String(e.content ?? '')).join('');
      return { kind: 'success', summary: text(result.response) ?? text(answer) ?? null };
    }
    const message = text(field(error, 'error', 'message')) ?? text(field(error, 'message')) ?? lastLine(transcript.stderr) ?? lastLine(transcript.stdout) ?? `gemini exited ${transcript.exitCode}`;
    const code = field(error, 'error', 'code');
    const status = typeof code === 'number' ? code : httpStatusOfExit(transcript.exitCode);
    const context = `${message}\n${transcript.stderr}`;
    return verdictOfStatus(status, message, now, context) ?? verdictOfMessage(message, now, context);
  },
};

/** Gemini CLI exits with the provider's HTTP status modulo 256: 173 is 429, 247 is 503, 145 is 401. */
function httpStatusOfExit(exitCode: number | null): number | undefined {
  const statuses: Record<number, number> = { 173: 429, 247: 503, 17: 529, 145: 401, 147: 403 };
  return exitCode === null ? undefined : statuses[exitCode];
}
