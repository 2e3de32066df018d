// The fake model server and the loopback-only sandbox work, and real Claude Code and Codex runs
// reach the fake server through them. See test/fixtures/agents/NOTES-claude-codex.md.
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  agentBin,
  canSandbox,
  claudeArgs,
  claudeEnv,
  codexArgs,
  codexEnv,
  freshHome,
  jsonLines,
  runSandboxed,
} from '../helpers/agents.js';

const claudeBin = agentBin('claude');
const codexBin = agentBin('codex');
const sandboxSkip = canSandbox() ? '' : 'needs root, `unshare -n` and `ip` for a loopback-only network namespace';
const claudeSkip = sandboxSkip || (claudeBin ? '' : 'no claude binary (KANBAN_TEST_CLAUDE_BIN, node_modules/.bin/claude or /tmp/agents)');
const codexSkip = sandboxSkip || (codexBin ? '' : 'no codex binary (KANBAN_TEST_CODEX_BIN, node_modules/.bin/codex or /tmp/agents)');
/** The title shows why a suite is skipped. */
const titled = (title: string, skip: string) => (skip ? `${title} [skipped: ${skip}]` : title);

const temps: string[] = [];
function temp(prefix?: string): string {
  const dir = freshHome(prefix);
  temps.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const nodeEnv = () => ({ HOME: temp() });

describe.skipIf(!!sandboxSkip)(titled('fake model server in the sandbox', sandboxSkip), () => {
  it('answers a request from inside the namespace and logs it', async () => {
    const script = `
      const res = await fetch(process.env.FAKE_MODEL_URL + '/v1/messages', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': 'secret-value' },
        body: JSON.stringify({ model: 'm', max_tokens: 50, tools: [{ name: 'Bash' }], messages: [{ role: 'user', content: 'task title: paint the fence' }] }),
      });
      console.log(JSON.stringify({ status: res.status, body: await res.json() }));`;
    const result = await runSandboxed([process.execPath, '--input-type=module', '-e', script], {
      scenario: { steps: [{ kind: 'answer', text: 'fence painted' }] },
      env: nodeEnv(),
      timeoutMs: 30_000,
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const reply = JSON.parse(result.stdout);
    expect(reply.status).toBe(200);
    expect(reply.body.content[0].text).toBe('fence painted');
    expect(result.requests).toHaveLength(1);
    const [request] = result.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/v1/messages', api: 'anthropic', role: 'main', step: 0, kind: 'answer' });
    expect(request!.body.messages[0].content).toContain('paint the fence');
    expect(request!.headers['x-api-key']).toBe('[redacted]');
  });

  it('serves scenario errors with the provider headers, and side requests without using a step', async () => {
    const script = `
      const post = (path, body) => fetch(process.env.FAKE_MODEL_URL + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const side = await post('/v1/messages', { model: 'haiku', max_tokens: 1, messages: [{ role: 'user', content: 'quota' }] });
      const main = await post('/v1/messages', { model: 'opus', max_tokens: 100, tools: [{ name: 'Bash' }], messages: [{ role: 'user', content: 'hi' }] });
      const codex = await post('/v1/responses', { model: 'gpt', stream: true, tools: [{ type: 'function', name: 'exec_command' }], input: [] });
      console.log(JSON.stringify({
        side: side.status,
        main: main.status, retryAfter: main.headers.get('retry-after'), error: (await main.json()).error.type,
        codex: codex.status, codexError: (await codex.json()).error.code,
      }));`;
    const result = await runSandboxed([process.execPath, '--input-type=module', '-e', script], {
      scenario: { steps: [{ kind: 'rate_limit', retry_after: 9 }] },
      env: nodeEnv(),
      timeoutMs: 30_000,
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ side: 200, main: 429, retryAfter: '9', error: 'rate_limit_error', codex: 429, codexError: 'rate_limit_exceeded' });
    expect(result.requests.map((request) => [request.role, request.step])).toEqual([
      ['side', null],
      ['main', 0],
      ['main', 1],
    ]);
  });

  it('has no way out but loopback: a connection to another address fails at once', async () => {
    // 192.0.2.1 is TEST-NET-1 (documentation only); with no route the kernel refuses before sending anything.
    const script = `
      const net = await import('node:net');
      const os = await import('node:os');
      const socket = net.connect({ host: '192.0.2.1', port: 443 });
      socket.setTimeout(5000, () => { console.log('TIMEOUT'); process.exit(2); });
      socket.on('connect', () => { console.log('CONNECTED'); process.exit(3); });
      socket.on('error', (error) => { console.log(JSON.stringify({ code: error.code, interfaces: Object.keys(os.networkInterfaces()) })); process.exit(0); });`;
    const result = await runSandboxed([process.execPath, '--input-type=module', '-e', script], {
      scenario: { steps: [{ kind: 'answer', text: 'unused' }] },
      env: nodeEnv(),
      timeoutMs: 30_000,
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ code: 'ENETUNREACH', interfaces: ['lo'] });
    expect(result.requests).toEqual([]);
  });
});

describe.skipIf(!!claudeSkip)(titled('Claude Code against the fake server', claudeSkip), () => {
  it('prints the scenario answer as its result', { timeout: 120_000 }, async () => {
    const home = temp();
    const result = await runSandboxed([claudeBin!, ...claudeArgs(), 'Kanban task: paint the fence\n\nUse blue paint.'], {
      scenario: { steps: [{ kind: 'answer', text: 'The fence is blue now.' }] },
      env: claudeEnv(home),
      cwd: temp('kanban-agent-work-'),
      timeoutMs: 60_000,
    });
    expect(result.timedOut).toBe(false);
    expect(result.code).toBe(0);
    const final = jsonLines(result.stdout).at(-1);
    expect(final).toMatchObject({ type: 'result', subtype: 'success', is_error: false, result: 'The fence is blue now.' });
    const main = result.requests.filter((request) => request.role === 'main');
    expect(main).toHaveLength(1);
    expect(JSON.stringify(main[0]!.body.messages)).toContain('paint the fence');
    expect(JSON.stringify(main[0]!.body.messages)).toContain('Use blue paint.');
  });
});

describe.skipIf(!!codexSkip)(titled('Codex against the fake server', codexSkip), () => {
  it('prints the scenario answer as its last agent_message', { timeout: 120_000 }, async () => {
    const home = temp();
    const result = await runSandboxed([codexBin!, ...codexArgs(), 'Kanban task: paint the fence\n\nUse blue paint.'], {
      scenario: { steps: [{ kind: 'answer', text: 'The fence is blue now.' }] },
      env: codexEnv(home),
      cwd: temp('kanban-agent-work-'),
      timeoutMs: 60_000,
    });
    expect(result.timedOut).toBe(false);
    expect(result.code).toBe(0);
    const events = jsonLines(result.stdout);
    const messages = events.filter((event) => event.type === 'item.completed' && event.item?.type === 'agent_message');
    expect(messages.at(-1)?.item.text).toBe('The fence is blue now.');
    expect(events.at(-1)?.type).toBe('turn.completed');
    const main = result.requests.filter((request) => request.role === 'main');
    expect(main).toHaveLength(1);
    expect(main[0]!.path).toBe('/v1/responses');
    expect(JSON.stringify(main[0]!.body.input)).toContain('paint the fence');
  });
});
