import { ending, field, jsonLines, lastLine, text, verdictOfMessage, verdictOfStatus } from './text.js';
import type { AgentAdapter, Transcript, Verdict } from './types.js';

/**
 * opencode, headless: `opencode run --format json`, the prompt on stdin (a prompt in argv reaches the
 * model wrapped in quotes). JSON events: `text` parts carry the answer; a provider error is
 * `{"type":"error","error":{"data":{"statusCode":429,"message":…,"responseHeaders":…}}}` and exit 1.
 */
export const opencode: AgentAdapter = {
  name: 'opencode',
  bin: 'opencode',
  invoke({ prompt, model, args, bin }) {
    const argv = [bin ?? 'opencode', 'run', '--format', 'json'];
    if (model) argv.push('--model', model);
    return {
      argv: [...argv, ...args],
      stdin: prompt,
      env: { OPENCODE_DISABLE_AUTOUPDATE: 'true', OPENCODE_DISABLE_SHARE: 'true', OPENCODE_DISABLE_MODELS_FETCH: 'true' },
    };
  },
  classify(transcript: Transcript, now: number): Verdict {
    const events = jsonLines(transcript.stdout);
    const error = events.findLast((e) => e.type === 'error');
    if (error) {
      const data = field(error, 'error', 'data');
      const message = text(field(data, 'message')) ?? text(field(error, 'error', 'message')) ?? text(field(error, 'error', 'name')) ?? 'opencode reported an error';
      const status = field(data, 'statusCode');
      const context = `${message}\n${JSON.stringify(field(data, 'responseHeaders') ?? {})}\n${text(field(data, 'responseBody')) ?? ''}`;
      return verdictOfStatus(typeof status === 'number' ? status : undefined, message, now, context) ?? verdictOfMessage(message, now, context);
    }
    const parts = events.filter((e) => e.type === 'text').map((e) => text(field(e, 'part', 'text')));
    if (transcript.exitCode === 0) return { kind: 'success', summary: parts.filter(Boolean).at(-1) ?? null };
    const said = lastLine(transcript.stderr) ?? lastLine(transcript.stdout);
    return said ? verdictOfMessage(said, now, transcript.stderr, ending(transcript.stderr)) : { kind: 'failed', reason: `opencode exited ${transcript.exitCode}` };
  },
};
