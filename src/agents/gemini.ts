import { ending, field, jsonObjects, lastLine, text, verdictOfMessage, verdictOfStatus } from './text.js';
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
    const events = jsonObjects(transcript.stdout);
    const result = events.findLast((e) => e.type === 'result' || 'response' in e);
    const error = [...events, ...jsonObjects(transcript.stderr)].findLast((e) => e.type === 'error' || field(e, 'error') !== undefined);
    const streamed = events.filter((e) => e.type === 'message' && e.role === 'assistant').map((e) => String(e.content ?? '')).join('');
    const answer = text(result?.response) ?? text(streamed) ?? (events.length === 0 ? lastLine(transcript.stdout, 64_000) : undefined);
    // Stopped by a signal, Gemini CLI exits 0 having said nothing: no answer is no success.
    if (transcript.exitCode === 0 && !error && (answer !== undefined || field(result, 'status') === 'success')) return { kind: 'success', summary: answer ?? null };
    const message =
      text(field(error, 'error', 'message')) ?? text(field(error, 'message')) ?? lastLine(transcript.stderr) ?? lastLine(transcript.stdout) ?? `gemini exited ${transcript.exitCode}`;
    const code = field(error, 'error', 'code');
    const status = typeof code === 'number' ? code : httpStatusOfExit(transcript.exitCode);
    const context = `${message}\n${ending(transcript.stderr)}`;
    return verdictOfStatus(status, message, now, context) ?? verdictOfMessage(message, now, context, error ? message : context);
  },
};

/** Gemini CLI exits with the provider's HTTP status modulo 256: 173 is 429, 247 is 503, 145 is 401. */
function httpStatusOfExit(exitCode: number | null): number | undefined {
  const statuses: Record<number, number> = { 173: 429, 247: 503, 17: 529, 145: 401, 147: 403 };
  return exitCode === null ? undefined : statuses[exitCode];
}
