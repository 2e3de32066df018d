// Helpers for tests that run real agent CLIs (Claude Code, Codex) against the fake model server
// (test/agents/fake-model-server.mjs) inside a network namespace that has only loopback
// (test/agents/sandbox.mjs). What each CLI does in each case: test/fixtures/agents/NOTES-claude-codex.md.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type AgentName = 'claude' | 'codex';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SANDBOX_SCRIPT = fileURLToPath(new URL('../agents/sandbox.mjs', import.meta.url));

/**
 * runSandboxed starts the fake server on this port inside each namespace (every namespace has its
 * own loopback, so it is always free), which lets env and config files name the URL in advance.
 */
export const FAKE_MODEL_PORT = 18_417;
export const FAKE_MODEL_URL = `http://127.0.0.1:${FAKE_MODEL_PORT}`;

/** The versions the project pins (devDependencies) and the recorded transcripts come from. */
export const AGENT_PACKAGES = {
  claude: { name: '@anthropic-ai/claude-code', version: '2.1.328' },
  codex: { name: '@openai/codex', version: '0.169.0' },
} as const;

/** KANBAN_TEST_<NAME>_BIN, else <repo>/node_modules/.bin/<name>, else /tmp/agents/node_modules/.bin/<name>; null if none exists. */
export function agentBin(name: AgentName): string | null {
  const override = process.env[`KANBAN_TEST_${name.toUpperCase()}_BIN`];
  if (override) return existsSync(override) ? override : null;
  for (const candidate of [join(REPO_ROOT, 'node_modules', '.bin', name), join('/tmp/agents/node_modules/.bin', name)]) {
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

let sandboxable: boolean | undefined;

/** True when we are root, `unshare -n` works and `ip` exists: what sandbox.mjs needs. */
export function canSandbox(): boolean {
  if (sandboxable === undefined) {
    sandboxable =
      process.getuid?.() === 0 &&
      spawnSync('unshare', ['-n', 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
  }
  return sandboxable;
}

/** A fresh, empty folder to serve as HOME for one CLI run. */
export function freshHome(prefix = 'kanban-agent-home-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** PATH for the CLIs: this node first (codex's launcher is a `#!/usr/bin/env node` script). */
export function agentPath(): string {
  return [join(process.execPath, '..'), process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'].join(':');
}

/**
 * The environment for a headless Claude Code run against the fake server: fresh HOME, telemetry,
 * updates and nonessential traffic off, a fake API key, and fail-fast settings (no retries, 30 s
 * until response headers, 30 s of stream silence, no non-streaming fallback after a stall).
 * Pass `oauth: true` to authenticate like a Claude subscription (CLAUDE_CODE_OAUTH_TOKEN) instead
 * of an API key: only then does Claude Code read usage-limit headers ("You've hit your … limit").
 */
export function claudeEnv(home: string, url: string = FAKE_MODEL_URL, options: { oauth?: boolean } = {}): Record<string, string> {
  return {
    HOME: home,
    PATH: agentPath(),
    ANTHROPIC_BASE_URL: url,
    ...(options.oauth ? { CLAUDE_CODE_OAUTH_TOKEN: 'sk-ant-oat01-fake-test-token' } : { ANTHROPIC_API_KEY: 'sk-ant-fake-test-key' }),
    IS_SANDBOX: '1', // lets --dangerously-skip-permissions run as root
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_UPDATES: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY: '1',
    CLAUDE_CODE_MAX_RETRIES: '0',
    API_TIMEOUT_MS: '30000',
    CLAUDE_BYTE_STREAM_IDLE_TIMEOUT_MS: '30000',
    CLAUDE_CODE_DISABLE_NONSTREAMING_FALLBACK: '1',
  };
}

/** The headless Claude Code argv (after the binary); the prompt goes last or on stdin. */
export function claudeArgs(extra: readonly string[] = []): string[] {
  return ['-p', '--output-format', 'stream-json', '--verbose', '--dangerously-skip-permissions', ...extra];
}

export const CODEX_KEY_ENV = 'FAKE_OPENAI_API_KEY';

/** The config.toml that points Codex at the fake server, with retries off and a short idle timeout. */
export function codexConfigToml(url: string = FAKE_MODEL_URL, { model = 'gpt-5.5', idleTimeoutMs = 30_000 } = {}): string {
  return [
    `model = "${model}"`,
    'model_provider = "fake"',
    'check_for_update_on_startup = false',
    '',
    '[analytics]',
    'enabled = false',
    '',
    '[feedback]',
    'enabled = false',
    '',
    '[features]',
    'plugins = false # else codex looks up github.com, api.github.com and chatgpt.com at start',
    'remote_plugin = false',
    'unbounded_connection_retries = false # else a refused connection is retried forever ("waiting for network")',
    '',
    '[model_providers.fake]',
    'name = "fake"',
    `base_url = "${url}/v1"`,
    'wire_api = "responses"',
    `env_key = "${CODEX_KEY_ENV}"`,
    'request_max_retries = 0',
    'stream_max_retries = 0',
    `stream_idle_timeout_ms = ${idleTimeoutMs}`,
    '',
  ].join('\n');
}

/**
 * The environment for a headless Codex run against the fake server. Writes
 * `<home>/.codex/config.toml` (see codexConfigToml), so any `codex exec` started with this HOME —
 * also one that kanban starts — talks only to the fake server.
 */
export function codexEnv(home: string, url: string = FAKE_MODEL_URL): Record<string, string> {
  mkdirSync(join(home, '.codex'), { recursive: true });
  writeFileSync(join(home, '.codex', 'config.toml'), codexConfigToml(url));
  return {
    HOME: home,
    PATH: agentPath(),
    CODEX_HOME: join(home, '.codex'),
    [CODEX_KEY_ENV]: 'sk-fake-test-key',
    NO_COLOR: '1',
  };
}

/** The headless Codex argv (after the binary); the prompt goes last, or `-` and stdin. */
export function codexArgs(extra: readonly string[] = []): string[] {
  return ['exec', '--json', '--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox', ...extra];
}

export interface LoggedRequest {
  seq: number;
  time: string;
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body: any;
  api: 'anthropic' | 'responses' | 'chat' | null;
  role: 'main' | 'side';
  step: number | null;
  kind: string | null;
}

export interface SandboxResult {
  /** The command's exit code; 128+N when a signal N ended it; 125 when the sandbox refused to run. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  requests: LoggedRequest[];
  timedOut: boolean;
  durationMs: number;
}

export interface SandboxOptions {
  scenario: unknown;
  env: Record<string, string>;
  cwd?: string;
  /** Then SIGTERM, and SIGKILL to the whole process group 5 s later. Default 60 s. */
  timeoutMs?: number;
  /** Written to the command's stdin, which is then closed (default: no stdin). */
  stdin?: string;
  port?: number;
}

/**
 * Runs argv inside `unshare -n` next to the fake server (see sandbox.mjs). Only `env` reaches the
 * command (plus FAKE_MODEL_URL), with '${FAKE_MODEL_URL}' in its values and in argv replaced by the URL.
 */
export function runSandboxed(argv: readonly string[], options: SandboxOptions): Promise<SandboxResult> {
  const logDir = mkdtempSync(join(tmpdir(), 'kanban-fake-model-'));
  const logFile = join(logDir, 'requests.jsonl');
  const scenario = typeof options.scenario === 'string' ? options.scenario : JSON.stringify(options.scenario);
  const env = { PATH: agentPath(), ...options.env };
  const started = Date.now();
  const child = spawn(
    'unshare',
    ['-n', process.execPath, SANDBOX_SCRIPT, '--scenario', scenario, '--log', logFile, '--port', String(options.port ?? FAKE_MODEL_PORT), '--', ...argv],
    { env, cwd: options.cwd, detached: true, stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] },
  );
  if (options.stdin !== undefined) child.stdin!.end(options.stdin);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let timedOut = false;
  let killer: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    signalGroup(child.pid, 'SIGTERM');
    killer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), 5_000);
  }, options.timeoutMs ?? 60_000);
  return new Promise((resolve, reject) => {
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (killer) clearTimeout(killer);
      const requests = existsSync(logFile)
        ? readFileSync(logFile, 'utf8')
            .split('\n')
            .filter((line) => line.trim() !== '')
            .map((line) => JSON.parse(line) as LoggedRequest)
        : [];
      rmSync(logDir, { recursive: true, force: true });
      resolve({ code, signal, stdout, stderr, requests, timedOut, durationMs: Date.now() - started });
    });
  });
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Parses JSONL output (Claude's stream-json, Codex's --json), skipping lines that are not JSON. */
export function jsonLines(text: string): any[] {
  const out: any[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // not JSON
    }
  }
  return out;
}
