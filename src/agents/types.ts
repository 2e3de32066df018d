/**
 * An agent adapter knows one agent CLI: how to run it headless, how the prompt goes in, the settings
 * that make it fail fast and keep it quiet, and how to read how a run ended from its own output.
 * Everything here is pure: the supervisor runs the process, the adapter only reads what it said.
 */

/** What a run needs to build the agent's command line. */
export interface InvocationInput {
  prompt: string;
  /** A file holding the prompt (for `{prompt_file}`). */
  promptFile: string;
  workspace: string;
  model?: string | undefined;
  /** The profile's extra argv, appended. */
  args: readonly string[];
  /** The binary to run instead of the adapter's default. */
  bin?: string | undefined;
}

export interface Invocation {
  argv: string[];
  /** Written to the agent's stdin, then closed; null leaves stdin closed at once. */
  stdin: string | null;
  /** Added to the worker's environment (the profile's own `env` goes on top). */
  env: Record<string, string>;
}

/** What the run left behind: how it exited and the tail of what it wrote. */
export interface Transcript {
  exitCode: number | null;
  signal: string | null;
  /** The last part of stdout (bounded), whole lines. */
  stdout: string;
  /** The last part of stderr (bounded), whole lines. */
  stderr: string;
}

/**
 * How a run ended, as the agent tells it. `clean_exit` is a plain command that exited 0 without
 * saying more (the profile's on_clean_exit decides); `success` is an agent that says it finished.
 */
export type Verdict =
  | { kind: 'success'; summary: string | null }
  | { kind: 'clean_exit' }
  | { kind: 'rate_limited'; reason: string; retryAt: number | null }
  | { kind: 'auth'; reason: string }
  /** A plain command's exit code that its profile's `exit_codes` map to blocked: the reason is the worker's last words. */
  | { kind: 'blocked'; reason: string }
  | { kind: 'failed'; reason: string };

export interface AgentAdapter {
  name: AgentName;
  /** The program run when the profile names no `bin`. */
  bin: string;
  invoke(input: InvocationInput): Invocation;
  /** Pure: the transcript and the time it ended (to turn "try again at 5:51 PM" into a time). */
  classify(transcript: Transcript, now: number): Verdict;
}

export const AGENT_NAMES = ['claude', 'codex', 'gemini', 'opencode'] as const;
export type AgentName = (typeof AGENT_NAMES)[number];
