import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { tempDir } from '../helpers/board.js';
import { expectFails, kanban } from '../helpers/cli.js';

/** A KANBAN_HOME and a PATH holding stand-ins for the agent CLIs named (executable files that are never run). */
function home(agents: string[] = []): { home: string; bin: string; env: Record<string, string>; config: string } {
  const dir = tempDir('kanban-config-');
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  for (const agent of agents) {
    writeFileSync(join(bin, agent), '#!/bin/sh\nexit 99\n');
    chmodSync(join(bin, agent), 0o755);
  }
  const kanbanHome = join(dir, 'home');
  return { home: kanbanHome, bin, env: { KANBAN_HOME: kanbanHome, PATH: bin }, config: join(kanbanHome, 'config.yaml') };
}

function ok(args: string[], env: Record<string, string>): string {
  const result = kanban(args, env);
  expect(result.code, result.stderr).toBe(0);
  expect(result.stderr).toBe('');
  return result.stdout;
}

describe('kanban config init', () => {
  it('writes a commented starter config with one profile per agent CLI on PATH, and it passes config check', () => {
    const h = home(['claude', 'gemini']);
    writeFileSync(join(h.bin, 'codex'), 'not executable'); // found by name, but not a program: left out
    expect(ok(['config', 'init'], h.env)).toBe(`wrote config ${h.config}: 2 profiles (claude, gemini)\n`);
    const text = readFileSync(h.config, 'utf8');
    expect(text).toMatch(/^profiles:\n {2}claude: +# found on PATH: .*\/bin\/claude\n {4}agent: claude\n/m);
    expect(text).toMatch(/^ {2}gemini: .*\n {4}agent: gemini$/m);
    expect(text).not.toMatch(/agent: (codex|opencode)/);
    expect(text).toMatch(/^ {2}# shell:\n {2}# {3}command: \["my-agent", "--task", "\{task_id\}"\]/m); // the plain-command example, commented out
    expect(text).toMatch(/^# tick_seconds: 2 +# KANBAN_TICK_SECONDS: dispatcher tick interval$/m);
    expect(ok(['config', 'check'], h.env)).toBe(`config OK: ${h.config} (2 profiles: claude, gemini)\n`);
  });

  it('with no agent CLI on PATH it writes no profile (profiles: {}), and that passes too', () => {
    const h = home();
    expect(ok(['config', 'init', '--json'], h.env)).toContain('"profiles": []');
    expect(readFileSync(h.config, 'utf8')).toMatch(/^profiles: \{\}$/m);
    expect(ok(['config', 'check'], h.env)).toBe(`config OK: ${h.config} (0 profiles)\n`);
  });

  it('refuses to overwrite a config (exit 1, the file untouched) unless --force', () => {
    const h = home(['codex']);
    mkdirSync(h.home, { recursive: true });
    writeFileSync(h.config, 'profiles: {}\n# mine\n');
    expectFails(['config', 'init'], h.env, 1, /config .*config\.yaml already exists: .*--force replaces it/, [h.config]);
    expect(ok(['config', 'init', '--force'], h.env)).toBe(`replaced config ${h.config}: 1 profile (codex)\n`);
    expect(readFileSync(h.config, 'utf8')).toContain('agent: codex');
  });

  it('writes where the config is looked for: --config > KANBAN_CONFIG > $KANBAN_HOME/config.yaml', () => {
    const h = home();
    const fromEnv = join(tempDir(), 'env', 'kanban.yaml');
    const fromFlag = join(tempDir(), 'flag.yaml');
    ok(['config', 'init'], { ...h.env, KANBAN_CONFIG: fromEnv });
    expect(existsSync(fromEnv)).toBe(true);
    ok(['--config', fromFlag, 'config', 'init'], { ...h.env, KANBAN_CONFIG: join(tempDir(), 'unused.yaml') });
    expect(existsSync(fromFlag)).toBe(true);
    expect(existsSync(h.config)).toBe(false);
  });

  it('a path it cannot write is exit 2 and writes nothing', () => {
    const h = home();
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, '');
    expectFails(['--config', join(file, 'config.yaml'), 'config', 'init'], h.env, 2, /cannot write config .*a-file\/config\.yaml/, [file]);
  });
});

describe('kanban config check', () => {
  it('an invalid config is exit 2 with the loader\'s line naming the key', () => {
    const h = home();
    const config = join(tempDir(), 'config.yaml');
    writeFileSync(config, 'profiles:\n  coder:\n    comand: [my-agent]\n');
    expectFails(['--config', config, 'config', 'check'], h.env, 2, /^kanban: invalid config .*: unknown key profiles\.coder\.comand$/);
    writeFileSync(config, 'tick_seconds: soon\n');
    expectFails(['--config', config, 'config', 'check'], h.env, 2, /tick_seconds: /);
    writeFileSync(config, 'profiles: [\n');
    expectFails(['--config', config, 'config', 'check'], h.env, 2, /not YAML/);
  });

  it('no file means the defaults: OK, and it says so', () => {
    const h = home();
    expect(ok(['config', 'check'], h.env)).toBe(`config OK: ${h.config} (no such file: the defaults, 0 profiles)\n`);
    expect(existsSync(h.home)).toBe(false);
  });

  it('the settings the environment adds are checked too', () => {
    const h = home();
    expectFails(['config', 'check'], { ...h.env, KANBAN_TICK_SECONDS: 'often' }, 2, /invalid KANBAN_TICK_SECONDS 'often'/);
  });
});

describe('kanban config show', () => {
  const SECRETS = ['sk-live-123', 'tok-456', 'hunter2', 'pa55'];
  function configWithSecrets(): string {
    const config = join(tempDir(), 'config.yaml');
    writeFileSync(
      config,
      [
        'tick_seconds: 5',
        'default_assignee: coder',
        'profiles:',
        '  coder:',
        '    command: ["my-agent", "--api-key", "sk-live-123", "--token=tok-456", "{task_id}"]',
        '    env: { OPENAI_API_KEY: hunter2, BASE_URL: "https://me:pa55@proxy.local", REGION: eu }',
        '    max_in_progress: 2',
      ].join('\n'),
    );
    return config;
  }

  it('prints what is in force as YAML: each setting with where it came from, the profiles without their credentials', () => {
    const h = home();
    const config = configWithSecrets();
    const out = ok(['--config', config, 'config', 'show'], { ...h.env, KANBAN_FAILURE_LIMIT: '5' });
    for (const secret of SECRETS) expect(out).not.toContain(secret);
    const shown = parseYaml(out);
    expect(shown.config_file).toEqual({ path: config, from: 'flag', exists: true });
    expect(shown.board).toEqual({ path: join(h.home, 'board.db'), from: 'default' });
    expect(shown.settings.tick_seconds).toEqual({ value: 5, from: 'config', env: 'KANBAN_TICK_SECONDS' });
    expect(shown.settings.failure_limit).toEqual({ value: 5, from: 'env', env: 'KANBAN_FAILURE_LIMIT' });
    expect(shown.settings.claim_ttl_seconds).toEqual({ value: 900, from: 'default', env: 'KANBAN_CLAIM_TTL_SECONDS' });
    expect(shown.default_assignee).toBe('coder');
    expect(shown.profiles.coder).toMatchObject({
      command: ['my-agent', '--api-key', '***', '--token=***', '{task_id}'],
      env: { OPENAI_API_KEY: '***', BASE_URL: 'https://***@proxy.local', REGION: 'eu' },
      max_in_progress: 2,
      on_clean_exit: 'violation', // defaults merged
    });
    expect(shown.diagnostics).toEqual({ stuck_blocked_hours: 24, block_cycle_window_hours: 24, block_cycle_count: 3, stranded_ready_minutes: 30 });
    expect(out).toMatch(/^ {2}tick_seconds: \{ value: 5, from: config, env: KANBAN_TICK_SECONDS \}$/m);
  });

  it('--json prints the same, credentials hidden as well', () => {
    const h = home();
    const config = configWithSecrets();
    const env = { ...h.env, KANBAN_CONFIG: config, KANBAN_BOARD: 'work' };
    const json = ok(['config', 'show', '--json'], env);
    for (const secret of SECRETS) expect(json).not.toContain(secret);
    expect(JSON.parse(json)).toEqual(parseYaml(ok(['config', 'show'], env)));
    expect(JSON.parse(json)).toMatchObject({ config_file: { from: 'env' }, board: { path: join(h.home, 'boards', 'work', 'board.db'), from: 'env' } });
  });

  it('an invalid config is exit 2, as for check', () => {
    const h = home();
    const config = join(tempDir(), 'config.yaml');
    writeFileSync(config, 'default_assignee: ghost\n');
    expectFails(['--config', config, 'config', 'show'], h.env, 2, /default_assignee: no profile named 'ghost'/);
  });
});
