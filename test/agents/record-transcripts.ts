// Records what the real agent CLIs print in each scenario, into test/fixtures/agents/<cli>/<case>.*
//
//   npx tsx test/agents/record-transcripts.ts [claude|codex] [case ...]
//
// Each run: a fresh HOME and work folder, the fake model server and the CLI inside `unshare -n`
// (loopback only), fail-fast settings, at most 60 s (then SIGTERM). Writes <case>.stdout and
// <case>.stderr raw, and <case>.json with the argv, the environment we set, exit code, signal,
// scenario, duration and a summary of the requests the server saw. Needs root (see canSandbox).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AGENT_PACKAGES,
  FAKE_MODEL_URL,
  agentBin,
  agentPath,
  canSandbox,
  claudeArgs,
  claudeEnv,
  freshHome,
  runSandboxed,
  type AgentName,
  type LoggedRequest,
} from '../helpers/agents.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/agents/', import.meta.url));
const PROMPT = 'Kanban task #7: Fixture task title\n\nFixture task body: reply with a short greeting.';
const TOOL_PROMPT = 'Kanban task #8: Run the tool\n\nRun `echo hello-from-tool` in the shell, then say what it printed.';
const LIMIT_MS = 60_000;
/** Nothing listens here inside the namespace (only the fake server does, on FAKE_MODEL_PORT). */
const CLOSED_URL = 'http://127.0.0.1:9';
const MAX_INLINE_BYTES = 50_000;

interface Case {
  name: string;
  steps: object[];
  prompt?: string;
  /** Extra CLI arguments (before the prompt). */
  args?: string[];
  /** Environment changes on top of the CLI's fail-fast env (a null value removes the key). */
  env?: Record<string, string | null>;
  /** Claude: authenticate with a subscription OAuth token instead of an API key. */
  oauth?: boolean;
  /** Codex: model provider settings (TOML inline-table body after the fixed keys). */
  provider?: string;
  /** The model server URL the CLI is given (default: the fake server's). */
  url?: string;
  note?: string;
}

const HANG_NOTE = 'the server accepts the request and never answers; the CLI runs with its fail-fast settings and is sent SIGTERM after 60 s if still running';

const CLAUDE_CASES: Case[] = [
  { name: 'answer', steps: [{ kind: 'answer', text: 'Hello from the fake model.' }] },
  { name: 'answer_stdin', steps: [{ kind: 'answer', text: 'Hello from the fake model.' }], note: 'prompt on stdin instead of argv' },
  { name: 'tool_call', prompt: TOOL_PROMPT, steps: [{ kind: 'tool_call', command: 'echo hello-from-tool' }, { kind: 'answer', text: 'The tool printed hello-from-tool.' }] },
  { name: 'rate_limit', steps: [{ kind: 'rate_limit', retry_after: 7 }] },
  {
    name: 'rate_limit_retried',
    steps: [{ kind: 'rate_limit', retry_after: 2 }],
    env: { CLAUDE_CODE_MAX_RETRIES: '2' },
    note: 'CLAUDE_CODE_MAX_RETRIES=2: two system/api_retry lines (retry_delay_ms follows retry-after) before the error',
  },
  {
    name: 'usage_limit',
    oauth: true,
    steps: [{ kind: 'usage_limit', reset_in_seconds: 3600 }],
    note: 'subscription auth (CLAUDE_CODE_OAUTH_TOKEN): 429 with anthropic-ratelimit-unified-status: rejected and -reset',
  },
  {
    name: 'usage_limit_api_key',
    steps: [{ kind: 'usage_limit', reset_in_seconds: 3600 }],
    note: 'the same server answer as usage_limit, but API-key auth: Claude Code ignores the unified headers',
  },
  { name: 'quota', steps: [{ kind: 'quota' }], note: '400 invalid_request_error "Your credit balance is too low…"' },
  { name: 'overloaded', steps: [{ kind: 'overloaded' }] },
  { name: 'auth', steps: [{ kind: 'auth' }] },
  { name: 'server_error', steps: [{ kind: 'server_error' }] },
  {
    name: 'max_turns',
    prompt: TOOL_PROMPT,
    args: ['--max-turns', '1'],
    steps: [{ kind: 'tool_call', command: 'echo hello-from-tool' }, { kind: 'answer', text: 'not reached' }],
  },
  { name: 'slow', steps: [{ kind: 'slow', text: 'one two three four five six', delay_ms: 500 }] },
  {
    name: 'hang',
    steps: [{ kind: 'hang' }],
    env: { API_TIMEOUT_MS: '10000', CLAUDE_BYTE_STREAM_IDLE_TIMEOUT_MS: '10000' },
    note: `${HANG_NOTE}; no response headers ever (API_TIMEOUT_MS=10000 applies)`,
  },
  {
    name: 'hang_after_headers',
    steps: [{ kind: 'hang', after: 'headers' }],
    env: { API_TIMEOUT_MS: '10000', CLAUDE_BYTE_STREAM_IDLE_TIMEOUT_MS: '10000' },
    note: `${HANG_NOTE}; 200 + SSE headers, then silence (CLAUDE_BYTE_STREAM_IDLE_TIMEOUT_MS=10000 applies)`,
  },
  {
    name: 'hang_sigterm',
    steps: [{ kind: 'hang' }],
    env: { API_TIMEOUT_MS: null, CLAUDE_BYTE_STREAM_IDLE_TIMEOUT_MS: null },
    note: `${HANG_NOTE}; no timeout knobs (defaults: gives up after about 5 min), so this shows what SIGTERM does`,
  },
  { name: 'unreachable', url: CLOSED_URL, steps: [{ kind: 'answer', text: 'unused' }], note: 'nothing listens at the base URL (connection refused)' },
];

const FAST_PROVIDER = 'request_max_retries=0, stream_max_retries=0, stream_idle_timeout_ms=10000';

const CODEX_CASES: Case[] = [
  { name: 'answer', steps: [{ kind: 'answer', text: 'Hello from the fake model.' }] },
  { name: 'answer_stdin', steps: [{ kind: 'answer', text: 'Hello from the fake model.' }], note: "prompt on stdin, argv ends with '-'" },
  { name: 'tool_call', prompt: TOOL_PROMPT, steps: [{ kind: 'tool_call', command: 'echo hello-from-tool' }, { kind: 'answer', text: 'The tool printed hello-from-tool.' }] },
  { name: 'rate_limit', steps: [{ kind: 'rate_limit', retry_after: 7 }] },
  {
    name: 'rate_limit_retried',
    steps: [{ kind: 'rate_limit', retry_after: 2 }],
    provider: 'request_max_retries=0, stream_max_retries=2, stream_idle_timeout_ms=10000',
    note: 'stream_max_retries=2: two "Reconnecting... n/2" error events (waits follow retry-after) before turn.failed',
  },
  { name: 'usage_limit', steps: [{ kind: 'usage_limit', reset_in_seconds: 3600 }], note: '429 {"error":{"type":"usage_limit_reached","plan_type":"plus","resets_at":…,"resets_in_seconds":3600}}' },
  { name: 'quota', steps: [{ kind: 'quota' }], note: '429 insufficient_quota' },
  { name: 'overloaded', steps: [{ kind: 'overloaded' }], note: '503 code server_is_overloaded' },
  { name: 'auth', steps: [{ kind: 'auth' }] },
  { name: 'server_error', steps: [{ kind: 'server_error' }] },
  { name: 'slow', steps: [{ kind: 'slow', text: 'one two three four five six', delay_ms: 500 }] },
  { name: 'hang', steps: [{ kind: 'hang' }], note: `${HANG_NOTE}; no response headers ever (stream_idle_timeout_ms does not apply before headers)` },
  { name: 'hang_after_headers', steps: [{ kind: 'hang', after: 'headers' }], note: `${HANG_NOTE}; 200 + SSE headers, then silence (stream_idle_timeout_ms=10000 applies)` },
  {
    name: 'unreachable',
    url: CLOSED_URL,
    steps: [{ kind: 'answer', text: 'unused' }],
    note: 'nothing listens at the base URL (connection refused); features.unbounded_connection_retries=false, else codex retries forever',
  },
];

function codexArgv(testCase: Case, prompt: string): string[] {
  const provider = `{name="fake", base_url="${testCase.url ?? FAKE_MODEL_URL}/v1", wire_api="responses", env_key="FAKE_OPENAI_API_KEY", ${testCase.provider ?? FAST_PROVIDER}}`;
  return [
    'exec',
    '--json',
    '--skip-git-repo-check',
    '--dangerously-bypass-approvals-and-sandbox',
    '-c',
    'model_provider=fake',
    '-c',
    `model_providers.fake=${provider}`,
    '-c',
    'model="gpt-5.5"',
    '-c',
    'check_for_update_on_startup=false',
    '-c',
    'analytics.enabled=false',
    '-c',
    'feedback.enabled=false',
    '-c',
    'features.plugins=false',
    '-c',
    'features.unbounded_connection_retries=false',
    ...(testCase.args ?? []),
    testCase.name === 'answer_stdin' ? '-' : prompt,
  ];
}

function codexRunEnv(home: string): Record<string, string> {
  // Like codexEnv() but without writing config.toml: the fixtures show the `-c` form.
  return { HOME: home, PATH: agentPath(), FAKE_OPENAI_API_KEY: 'sk-fake-test-key', NO_COLOR: '1' };
}

function applyEnv(base: Record<string, string>, changes: Record<string, string | null> = {}): Record<string, string> {
  const env = { ...base };
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) delete env[key];
    else env[key] = value;
  }
  return env;
}

function summarize(requests: LoggedRequest[], started: number) {
  return requests.map((request) => ({
    at_ms: Date.parse(request.time) - started,
    method: request.method,
    path: request.path,
    role: request.role,
    kind: request.kind,
    model: request.body?.model ?? null,
    stream: request.body?.stream ?? null,
    retry_count_header: request.headers['x-stainless-retry-count'] ?? null,
  }));
}

function truncateLines(text: string): { text: string; truncated: boolean } {
  let truncated = false;
  const lines = text.split('\n').map((line) => {
    if (Buffer.byteLength(line) <= MAX_INLINE_BYTES) return line;
    truncated = true;
    return `${line.slice(0, 2000)} …[truncated by record-transcripts: line was ${Buffer.byteLength(line)} bytes]`;
  });
  return { text: lines.join('\n'), truncated };
}

async function record(cli: AgentName, testCase: Case): Promise<void> {
  const bin = agentBin(cli);
  if (!bin) throw new Error(`no ${cli} binary (set KANBAN_TEST_${cli.toUpperCase()}_BIN)`);
  const home = freshHome();
  const work = freshHome('kanban-agent-work-');
  const prompt = testCase.prompt ?? PROMPT;
  const viaStdin = testCase.name === 'answer_stdin';
  let argv: string[];
  let env: Record<string, string>;
  if (cli === 'claude') {
    argv = claudeArgs(testCase.args ?? []);
    if (!viaStdin) argv.push(prompt);
    env = applyEnv(claudeEnv(home, testCase.url ?? FAKE_MODEL_URL, { oauth: testCase.oauth }), testCase.env);
  } else {
    argv = codexArgv(testCase, prompt);
    env = applyEnv(codexRunEnv(home), testCase.env);
  }
  const scenario = { steps: testCase.steps };
  const started = Date.now();
  const result = await runSandboxed([bin, ...argv], { scenario, env, cwd: work, timeoutMs: LIMIT_MS, stdin: viaStdin ? prompt : undefined });
  const dir = join(FIXTURES, cli);
  mkdirSync(dir, { recursive: true });
  const stdout = truncateLines(result.stdout);
  writeFileSync(join(dir, `${testCase.name}.stdout`), stdout.text);
  writeFileSync(join(dir, `${testCase.name}.stderr`), result.stderr);
  const shownEnv = { ...env, HOME: '<fresh temp folder>', PATH: '<inherited>' };
  const meta = {
    cli: AGENT_PACKAGES[cli].name,
    version: AGENT_PACKAGES[cli].version,
    case: testCase.name,
    note: testCase.note ?? null,
    argv: [cli, ...argv],
    prompt_via: viaStdin ? 'stdin' : 'argv',
    ...(viaStdin ? { stdin: prompt } : {}),
    cwd: '<fresh temp folder>',
    env: shownEnv,
    exit_code: result.code,
    signal: result.signal,
    killed_after_ms: result.timedOut ? LIMIT_MS : null,
    scenario,
    duration_ms: result.durationMs,
    stdout_truncated: stdout.truncated,
    requests: summarize(result.requests, started),
  };
  writeFileSync(join(dir, `${testCase.name}.json`), JSON.stringify(meta, null, 2) + '\n');
  rmSync(home, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
  console.log(`${cli}/${testCase.name}: exit ${result.code}${result.timedOut ? ' (killed after 60 s)' : ''} in ${result.durationMs} ms, ${result.requests.length} request(s)`);
}

async function main(): Promise<void> {
  if (!canSandbox()) throw new Error('cannot sandbox: need root, unshare -n and ip');
  const [only, ...names] = process.argv.slice(2);
  const clis: AgentName[] = only === 'claude' || only === 'codex' ? [only] : ['claude', 'codex'];
  for (const cli of clis) {
    const cases = cli === 'claude' ? CLAUDE_CASES : CODEX_CASES;
    for (const testCase of cases) {
      if (names.length > 0 && !names.includes(testCase.name)) continue;
      await record(cli, testCase);
    }
  }
}

await main();
