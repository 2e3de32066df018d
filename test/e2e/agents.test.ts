import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killBoardProcesses } from '../../chaos/harness.js';
import { openStore, type Store } from '../../src/store/db.js';
import { completeTask } from '../../src/store/lifecycle.js';
import { runsForTask } from '../../src/store/runs.js';
import { createTask, getTask, showTask } from '../../src/store/tasks.js';
import type { RunRow, Task } from '../../src/core/types.js';
import { agentBin, agentPath, canSandbox, codexEnv, FAKE_MODEL_PORT, FAKE_MODEL_URL, freshHome, SANDBOX_SCRIPT, type LoggedRequest } from '../helpers/agents.js';
import { KANBAN_BIN } from '../helpers/cli.js';
import { exited } from '../helpers/processes.js';
import { waitFor } from '../helpers/workers.js';

/**
 * The real Claude Code and Codex CLIs as kanban workers: `kanban tui --no-ui` and its supervisors
 * and agents run inside a network namespace with only loopback, next to the fake model server
 * (test/agents/sandbox.mjs), with HOME in a temp folder and each CLI's telemetry and updates off.
 * The test reads the board from outside, as a person would.
 */

const AGENT_DEADLINE_MS = 90_000; // a CLI start on a loaded 2-core machine can take several seconds
/** A reset reported to the minute ("resets 8:07pm") can mean a wait of up to a minute, then a second run. */
const TEST_TIMEOUT_MS = 180_000;

interface Sandboxed {
  db: string;
  store: Store;
  child: ChildProcess;
  stderr: () => string;
  requests(): LoggedRequest[];
}

const running: Sandboxed[] = [];

afterEach(async () => {
  for (const s of running.splice(0)) {
    if (s.child.exitCode === null && s.child.signalCode === null) {
      try {
        process.kill(-s.child.pid!, 'SIGTERM');
      } catch {
        // gone
      }
      await Promise.race([exited(s.child), new Promise((r) => setTimeout(r, 10_000))]);
    }
    killBoardProcesses(s.db);
    s.store.close();
  }
});

type Agent = 'claude' | 'codex';

/** A board whose one profile is the agent, and a dispatcher for it inside the sandbox. */
function sandboxedBoard(agent: Agent, profile: Record<string, unknown>, scenario: unknown | ((boardDir: string) => unknown), env: Record<string, string> = {}, options: { oauth?: boolean } = {}): Sandboxed {
  const dir = mkdtempSync(join(tmpdir(), `kanban-e2e-${agent}-`));
  const db = join(dir, 'board.db');
  const log = join(dir, 'requests.jsonl');
  const config = join(dir, 'config.yaml');
  const home = freshHome();
  const agentEnv: Record<string, string> =
    agent === 'claude'
      ? { HOME: home, ...quietClaude }
      : { ...codexEnv(home), HOME: home };
  // Claude Code reads a subscription's usage-limit headers (and says when the limit resets) only
  // when it authenticates like a subscription: an OAuth token rather than an API key.
  const credentials = options.oauth ? { CLAUDE_CODE_OAUTH_TOKEN: 'sk-ant-oat01-fake-test-token' } : { ANTHROPIC_API_KEY: 'sk-ant-fake-test-key' };
  const profileEnv = agent === 'claude' ? { ANTHROPIC_BASE_URL: FAKE_MODEL_URL, ...credentials } : {};
  writeFileSync(config, JSON.stringify({ profiles: { [agent]: { agent, bin: agentBin(agent), ...profile, env: { ...profileEnv, ...((profile.env as object) ?? {}) } } } }));
  const store = openStore(db);
  const child = spawn(
    'unshare',
    ['-n', process.execPath, SANDBOX_SCRIPT, '--scenario', JSON.stringify(typeof scenario === 'function' ? scenario(dir) : scenario), '--log', log, '--port', String(FAKE_MODEL_PORT), '--', process.execPath, KANBAN_BIN, 'tui', '--no-ui'],
    {
      cwd: dir,
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        PATH: agentPath(),
        ...agentEnv,
        KANBAN_DB: db,
        KANBAN_CONFIG: config,
        KANBAN_TICK_SECONDS: '0.3',
        KANBAN_CLAIM_TTL_SECONDS: '60',
        KANBAN_HEARTBEAT_BRIDGE_SECONDS: '1',
        ...env,
      },
    },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const sandboxed: Sandboxed = {
    db,
    store,
    child,
    stderr: () => stderr,
    requests: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as LoggedRequest) : []),
  };
  running.push(sandboxed);
  return sandboxed;
}

/** What Claude Code needs besides its profile's env: no telemetry, updates or surveys (the adapter adds the rest). */
const quietClaude = { DISABLE_TELEMETRY: '1', DISABLE_AUTOUPDATER: '1', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' };

function settled(s: Sandboxed, id: string, statuses: readonly Task['status'][], what: string): Promise<Task> {
  return waitFor(`${what} (stderr: ${s.stderr().slice(-500)})`, () => {
    const task = getTask(s.store, id);
    return statuses.includes(task.status) ? task : undefined;
  }, AGENT_DEADLINE_MS, 200);
}

function endedRuns(s: Sandboxed, id: string): RunRow[] {
  return runsForTask(s.store, id).filter((r) => r.status === 'ended');
}

const mainRequestText = (s: Sandboxed) =>
  s
    .requests()
    .filter((r) => r.role === 'main')
    .map((r) => JSON.stringify(r.body))
    .join('\n');

for (const agent of ['claude', 'codex'] as const) {
  const reason = !canSandbox() ? 'needs root, unshare -n and ip (a network namespace with only loopback)' : !agentBin(agent) ? `${agent} is not installed (npm ci installs it)` : null;
  describe.skipIf(reason !== null)(`${agent} as a kanban worker${reason ? ` (skipped: ${reason})` : ''}`, () => {
    it('runs a task to done with the agent\'s answer as summary, handed the title, body and the parent\'s summary', async () => {
      const s = sandboxedBoard(agent, {}, { steps: [{ kind: 'answer', text: 'Refactored the parser; all 12 tests pass.' }] });
      const parent = createTask(s.store, { title: 'Design the parser', assignee: 'nobody' }).task;
      completeTask(s.store, parent.id, 'Grammar in docs/grammar.md, LL(1)');
      const task = createTask(s.store, { title: 'Implement the parser', body: 'Follow the grammar exactly.', assignee: agent, parents: [parent.id] }).task;
      const done = await settled(s, task.id, ['done', 'blocked'], 'the task to be done');
      expect(done).toMatchObject({ status: 'done', summary: 'Refactored the parser; all 12 tests pass.' });
      expect(endedRuns(s, task.id).map((r) => r.outcome)).toEqual(['completed']);
      const sent = mainRequestText(s);
      for (const text of ['Implement the parser', 'Follow the grammar exactly.', 'Grammar in docs/grammar.md, LL(1)']) expect(sent).toContain(text);
    }, TEST_TIMEOUT_MS);

    it('lets the agent\'s shell tool run kanban worker comment with the identity it inherited', async () => {
      // The prompt names kanban by its path in the board's folder (login shells reset PATH); the model uses what it was told.
      const kanbanPath = (dir: string) => join(dir, 'bin', 'kanban');
      const s = sandboxedBoard(agent, {}, (dir: string) => ({
        steps: [{ kind: 'tool_call', command: `${kanbanPath(dir)} worker comment "halfway: parser compiles"` }, { kind: 'answer', text: 'done' }],
      }));
      const task = createTask(s.store, { title: 'Comment from the tool', assignee: agent }).task;
      await settled(s, task.id, ['done', 'blocked'], 'the task to end');
      expect(showTask(s.store, task.id).comments).toMatchObject([{ author: 'worker', body: 'halfway: parser compiles' }]);
      expect(mainRequestText(s)).toContain(`${kanbanPath(join(s.db, '..'))} worker comment`);
    }, TEST_TIMEOUT_MS);

    it('a usage limit is rate_limited, not counted, and retried after the reset the agent reported', async () => {
      // The first request hits the limit (reset in 3 s); the retry gets an answer.
      const s = sandboxedBoard(agent, {}, { steps: [{ kind: 'usage_limit', reset_in_seconds: 3 }, { kind: 'answer', text: 'worked after the reset' }] }, {
        KANBAN_RATE_LIMIT_COOLDOWN_SECONDS: '600', // the default must not be what brings it back
        KANBAN_RATE_LIMIT_MAX_COOLDOWN_SECONDS: '90',
      }, { oauth: true });
      const task = createTask(s.store, { title: 'Limited', assignee: agent }).task;
      const done = await settled(s, task.id, ['done', 'blocked'], 'the task to be done after the reset');
      expect(done).toMatchObject({ status: 'done', summary: 'worked after the reset', consecutive_failures: 0 });
      const [limited, finished] = endedRuns(s, task.id);
      expect(limited).toMatchObject({ outcome: 'rate_limited' });
      expect(finished).toMatchObject({ outcome: 'completed' });
      const event = showTask(s.store, task.id).events.find((e) => e.kind === 'rate_limited')!;
      const cooldownUntil = event.payload.cooldown_until as number;
      expect(cooldownUntil - limited!.ended_at!).toBeLessThanOrEqual(90_000); // the reported reset, not the 600 s default
      expect(finished!.started_at).toBeGreaterThanOrEqual(cooldownUntil);
      // The README's figure: KANBAN_MEASURE=1 npx vitest run test/e2e/agents.test.ts -t "usage limit"
      if (process.env.KANBAN_MEASURE) console.log(`${agent}: 429 at ${limited!.ended_at}, reset reported for ${cooldownUntil} (+${cooldownUntil - limited!.ended_at!} ms), retried at +${finished!.started_at - limited!.ended_at!} ms`);
    }, TEST_TIMEOUT_MS);

    it('bad credentials block the task (sticky), naming the profile, and it is not retried', async () => {
      const s = sandboxedBoard(agent, {}, { steps: [{ kind: 'auth' }] });
      const task = createTask(s.store, { title: 'Wrong key', assignee: agent }).task;
      const blocked = await settled(s, task.id, ['blocked', 'done'], 'the task to be blocked');
      expect(blocked.status).toBe('blocked');
      expect(blocked.status_reason).toMatch(new RegExp(`credentials of profile ${agent} were refused`));
      await new Promise((r) => setTimeout(r, 2_000)); // several ticks: a sticky block stays
      expect(getTask(s.store, task.id).status).toBe('blocked');
      expect(endedRuns(s, task.id)).toHaveLength(1);
    }, TEST_TIMEOUT_MS);

    it('a server that never answers: the agent is stopped after idle_timeout and the run is hung, counted', async () => {
      const s = sandboxedBoard(agent, { idle_timeout: 4 }, { steps: [{ kind: 'hang' }] }, { KANBAN_FAILURE_LIMIT: '5' });
      const task = createTask(s.store, { title: 'Hangs', assignee: agent }).task;
      const run = await waitFor('a hung run', () => endedRuns(s, task.id).find((r) => r.outcome === 'hung'), AGENT_DEADLINE_MS, 200);
      expect(run.error).toMatch(/no output and no heartbeat for 4s/);
      expect(getTask(s.store, task.id).consecutive_failures).toBeGreaterThanOrEqual(1);
    }, TEST_TIMEOUT_MS);
  });
}
