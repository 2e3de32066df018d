import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config.js';
import { InvalidInput } from '../../src/errors.js';
import { ConfigSource } from '../../src/dispatcher/config-source.js';
import { resolveSettings } from '../../src/settings.js';
import { tempDir } from '../helpers/board.js';

describe('config.yaml', () => {
  const DIAGNOSTICS = { stuck_blocked_hours: 24, block_cycle_window_hours: 24, block_cycle_count: 3, stranded_ready_minutes: 30 };

  it('a config over 64 KiB is refused with its size, before it is parsed; a dispatcher keeps the one in force', () => {
    const path = join(tempDir(), 'config.yaml');
    writeFileSync(path, JSON.stringify({ profiles: { coder: { command: ['agent'] } } }));
    const source = new ConfigSource(path);
    // 11 MB of flow-style YAML: parsing it would take minutes.
    writeFileSync(path, `x: {${Array.from({ length: 800_000 }, (_, i) => `k${i}: 1`).join(', ')}}\n`);
    expect(() => loadConfig(path)).toThrowError(/^config .*config\.yaml is \d+ bytes: the limit is 65536 \(64 KiB\)/);
    expect(() => loadConfig(path)).toThrowError(InvalidInput);
    expect(source.refresh()).toBeNull(); // seen changed: taken once it is seen again as it is
    expect(source.refresh()).toMatch(/is \d+ bytes: the limit is 65536 .*\(keeping the previous config\)$/);
    expect(Object.keys(source.config.profiles)).toEqual(['coder']);
  });

  it('a dispatcher takes a changed config once it has stayed as it is from one look to the next: one caught while it is written is never in force', () => {
    const path = join(tempDir(), 'config.yaml');
    const good = JSON.stringify({ profiles: { coder: { command: ['agent'] } } });
    writeFileSync(path, good);
    const source = new ConfigSource(path);
    // Rewritten in place: a look falls while the file is empty (a valid config, with no profiles).
    writeFileSync(path, '');
    expect(source.refresh()).toBeNull();
    writeFileSync(path, JSON.stringify({ profiles: { coder: { command: ['agent'] }, reviewer: { command: ['review'] } } }));
    expect(source.refresh()).toBeNull();
    expect(Object.keys(source.config.profiles)).toEqual(['coder']); // the empty version never went in force
    expect(source.refresh()).toBeNull(); // the same version again: taken
    expect(Object.keys(source.config.profiles)).toEqual(['coder', 'reviewer']);
    expect(source.problem).toBeNull();
  });

  it('a missing file means defaults', () => {
    expect(loadConfig(join(tempDir(), 'nope.yaml'))).toEqual({ profiles: {}, diagnostics: DIAGNOSTICS, hooks: [], keys: {} });
  });

  const PROFILE_DEFAULTS = { args: [], env: {}, rate_limit: [], exit_codes: {}, on_success: 'complete', on_clean_exit: 'violation' };

  it('reads profiles and settings', () => {
    const config = parseConfig(
      `profiles:
  coder:
    command: ["my-agent", "--task", "{task_id}"]
    max_in_progress: 2
  reviewer:
    command: [review]
    on_clean_exit: complete
default_assignee: coder
claim_ttl_seconds: 0.5
failure_limit: 3
`,
      'c.yaml',
    );
    expect(config).toEqual({
      profiles: {
        coder: { ...PROFILE_DEFAULTS, command: ['my-agent', '--task', '{task_id}'], max_in_progress: 2 },
        reviewer: { ...PROFILE_DEFAULTS, command: ['review'], on_clean_exit: 'complete' },
      },
      default_assignee: 'coder',
      claim_ttl_seconds: 0.5,
      failure_limit: 3,
      diagnostics: DIAGNOSTICS,
      hooks: [],
      keys: {},
    });
  });

  it.each([
    ['command: "my-agent --task {task_id}"', 'profiles:\n  coder:\n    command: "my-agent --task {task_id}"', /profiles\.coder\.command: /],
    ['an empty command', 'profiles:\n  coder:\n    command: []', /profiles\.coder\.command: needs at least the program to run/],
    ['a bad on_clean_exit', 'profiles:\n  coder:\n    command: [x]\n    on_clean_exit: maybe', /profiles\.coder\.on_clean_exit: /],
    ['a zero max_in_progress', 'profiles:\n  coder:\n    command: [x]\n    max_in_progress: 0', /profiles\.coder\.max_in_progress: /],
    ['an unknown profile key', 'profiles:\n  coder:\n    command: [x]\n    shell: true', /unknown key profiles\.coder\.shell$/],
    ['an unknown top-level key', 'claim_ttl: 5', /unknown key claim_ttl$/],
    ['a duration that is text', 'claim_ttl_seconds: soon', /claim_ttl_seconds: /],
    ['a negative duration', 'tick_seconds: -1', /tick_seconds: /],
    ['a fractional failure limit', 'failure_limit: 1.5', /failure_limit: /],
    ['a default assignee with no profile', 'default_assignee: ghost', /default_assignee: no profile named 'ghost'/],
    ['a bad profile name', 'profiles:\n  "two words":\n    command: [x]', /profiles\.two words: invalid name: a profile name of letters/],
    ['something that is not YAML', 'profiles: [unclosed', /not YAML/],
    ['a list at the top', '- a\n- b', /\(top level\): /],
    ['an unknown diagnostics threshold', 'diagnostics:\n  stuck_hours: 3', /unknown key diagnostics\.stuck_hours$/],
    ['a diagnostics threshold that is not a number', 'diagnostics:\n  block_cycle_count: many', /diagnostics\.block_cycle_count: /],
    ['a profile with neither command nor agent', 'profiles:\n  coder:\n    model: opus', /profiles\.coder\.command: needs a command or an agent/],
    ['an agent kanban has no adapter for', 'profiles:\n  coder:\n    agent: clippy', /profiles\.coder\.agent: /],
    ['an idle_timeout that is not a duration', 'profiles:\n  coder:\n    agent: claude\n    idle_timeout: soon', /profiles\.coder\.idle_timeout: invalid duration "soon"/],
    ['a rate_limit pattern that is not a regular expression', 'profiles:\n  coder:\n    agent: claude\n    rate_limit: ["(unclosed"]', /profiles\.coder\.rate_limit\.0: not a valid regular expression/],
    ['an env entry that would override the worker identity', 'profiles:\n  coder:\n    agent: claude\n    env: { KANBAN_TASK: t_00000000 }', /profiles\.coder\.env\.KANBAN_TASK: /],
    ['a gc limit that is not a duration', 'gc:\n  older_than: a month', /gc\.older_than: invalid duration "a month"/],
    ['a gc every of 0', 'gc:\n  every: 0', /gc\.every: a duration above 0/],
    ['an unknown gc key', 'gc:\n  keep: 3', /unknown key gc\.keep$/],
    ['an exit_codes meaning kanban does not know', 'profiles:\n  coder:\n    command: [x]\n    exit_codes: { "3": retry }', /profiles\.coder\.exit_codes\.3: /],
  ])('%s is a clear error naming the key (exit 2)', (_name, text, message) => {
    expect(() => parseConfig(text, '/home/me/config.yaml')).toThrowError(InvalidInput);
    expect(() => parseConfig(text, '/home/me/config.yaml')).toThrowError(/^invalid config \/home\/me\/config\.yaml: /);
    expect(() => parseConfig(text, '/home/me/config.yaml')).toThrowError(message);
  });

  it('emits no process warning for odd but valid YAML (stderr carries only kanban: lines)', async () => {
    const warnings: unknown[] = [];
    const onWarning = (w: unknown) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      expect(parseConfig('%YAML 9.9\n---\nfailure_limit: 3\n', 'c.yaml').failure_limit).toBe(3);
      await new Promise((resolve) => setImmediate(resolve)); // process warnings are emitted on the next tick
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
  });

  it('reads an agent profile: durations in words, patterns, the environment it adds', () => {
    const config = parseConfig(
      `profiles:
  coder:
    agent: claude
    model: opus
    env: { ANTHROPIC_BASE_URL: "http://127.0.0.1:8787" }
    idle_timeout: 15m
    rate_limit: ["quota exceeded"]
    on_success: review
`,
      'c.yaml',
    );
    expect(config.profiles.coder).toEqual({
      ...PROFILE_DEFAULTS,
      agent: 'claude',
      model: 'opus',
      env: { ANTHROPIC_BASE_URL: 'http://127.0.0.1:8787' },
      idle_timeout: 900,
      rate_limit: ['quota exceeded'],
      on_success: 'review',
    });
    // What the dispatcher hands its supervisors (JSON of the parsed config) reads back the same.
    expect(parseConfig(JSON.stringify(config), 'handed')).toEqual(config);
  });

  it('reads gc: durations in words, 30 days and every hour unless told, no archiving of done tasks unless told; none at all without the key', () => {
    expect(parseConfig('gc: {}', 'c.yaml').gc).toEqual({ older_than: 30 * 86_400, every: 3_600 });
    expect(parseConfig('gc:\n  older_than: 90d\n  archive_done_after: 14d\n  every: 15m', 'c.yaml').gc).toEqual({ older_than: 90 * 86_400, archive_done_after: 14 * 86_400, every: 900 });
    expect(parseConfig('', 'c.yaml').gc).toBeUndefined();
  });

  it('reads hooks: argv, event kinds, a timeout (10 s by default); what the dispatcher hands on reads back the same', () => {
    const config = parseConfig(
      `hooks:
  - on: [gave_up, blocked, review]
    command: ["notify-send", "kanban", "{task_id} {kind}"]
  - on: [completed]
    command: [/usr/local/bin/chat-post, "{title}"]
    timeout: 2m
`,
      'c.yaml',
    );
    expect(config.hooks).toEqual([
      { on: ['gave_up', 'blocked', 'review'], command: ['notify-send', 'kanban', '{task_id} {kind}'], timeout: 10 },
      { on: ['completed'], command: ['/usr/local/bin/chat-post', '{title}'], timeout: 120 },
    ]);
    expect(parseConfig(JSON.stringify(config), 'handed')).toEqual(config);
  });

  it.each([
    ['an unknown event kind', '[{on: [gave_up, nope], command: [x]}]', /^invalid config c\.yaml: hooks\.0\.on\.1: not an event kind hooks run on: "nope" \(one of created .* archived\)$/],
    ['a kind too frequent to hook', '[{on: [heartbeat], command: [x]}]', /hooks\.0\.on\.0: not an event kind hooks run on: "heartbeat"/],
    ['no event kind', '[{on: [], command: [x]}]', /hooks\.0\.on: needs at least one event kind$/],
    ['a shell string', '[{on: [blocked], command: "notify-send hi"}]', /hooks\.0\.command: an argv list .*never a shell string$/],
    ['an empty argv', '[{on: [blocked], command: []}]', /hooks\.0\.command: needs at least the program to run$/],
    ['an empty program', '[{on: [blocked], command: [""]}]', /hooks\.0\.command\.0: the program is empty$/],
    ['a zero timeout', '[{on: [blocked], command: [x], timeout: 0}]', /hooks\.0\.timeout: a duration above 0$/],
    ['a timeout that is no duration', '[{on: [blocked], command: [x], timeout: soon}]', /hooks\.0\.timeout: invalid duration "soon"/],
    ['an unknown key', '[{on: [blocked], command: [x], shell: true}]', /unknown key hooks\.0\.shell$/],
    ['not a list', '{on: [blocked]}', /^invalid config c\.yaml: hooks: /],
  ])('refuses %s in hooks, naming the key', (_, hooks, message) => {
    expect(() => parseConfig(`hooks: ${hooks}\n`, 'c.yaml')).toThrowError(message);
    expect(() => parseConfig(`hooks: ${hooks}\n`, 'c.yaml')).toThrowError(InvalidInput);
  });

  it('an empty file means defaults', () => {
    const path = join(tempDir(), 'config.yaml');
    writeFileSync(path, '');
    expect(loadConfig(path)).toEqual({ profiles: {}, diagnostics: DIAGNOSTICS, hooks: [], keys: {} });
  });
});

describe('settings', () => {
  it('are the contract defaults with nothing set', () => {
    expect(resolveSettings({}, {})).toMatchObject({
      tickSeconds: 2,
      claimTtlSeconds: 900,
      heartbeatBridgeSeconds: 60,
      heartbeatMaxStaleSeconds: 3600,
      crashGraceSeconds: 30,
      rateLimitCooldownSeconds: 300,
      staleTimeoutSeconds: 14400,
      failureLimit: 2,
      maxInProgress: 4,
    });
  });

  it('flag > config key > environment > default, each with its source', () => {
    const env = { KANBAN_CLAIM_TTL_SECONDS: '10', KANBAN_TICK_SECONDS: '0.5', KANBAN_FAILURE_LIMIT: '5' };
    const settings = resolveSettings({ claim_ttl_seconds: 20, failure_limit: 3 }, env, { failureLimit: 7 });
    expect(settings).toMatchObject({ claimTtlSeconds: 20, tickSeconds: 0.5, failureLimit: 7, crashGraceSeconds: 30 });
    expect(settings.sources).toMatchObject({ claimTtlSeconds: 'config', tickSeconds: 'env', failureLimit: 'flag', crashGraceSeconds: 'default' });
  });

  it.each([
    ['KANBAN_CLAIM_TTL_SECONDS', 'soon', /invalid KANBAN_CLAIM_TTL_SECONDS 'soon': expected a number of seconds above 0/],
    ['KANBAN_CLAIM_TTL_SECONDS', '0', /above 0/],
    ['KANBAN_TICK_SECONDS', '-1', /invalid KANBAN_TICK_SECONDS/],
    ['KANBAN_FAILURE_LIMIT', '1.5', /invalid KANBAN_FAILURE_LIMIT '1\.5': expected a whole number above 0/],
    ['KANBAN_MAX_IN_PROGRESS', 'four', /invalid KANBAN_MAX_IN_PROGRESS/],
    ['KANBAN_STALE_TIMEOUT_SECONDS', 'NaN', /invalid KANBAN_STALE_TIMEOUT_SECONDS/],
  ])('%s=%s is bad input', (name, value, message) => {
    expect(() => resolveSettings({}, { [name]: value })).toThrowError(InvalidInput);
    expect(() => resolveSettings({}, { [name]: value })).toThrowError(message);
  });

  it('accepts 0 where it means off, and fractions', () => {
    expect(resolveSettings({}, { KANBAN_STALE_TIMEOUT_SECONDS: '0', KANBAN_HEARTBEAT_BRIDGE_SECONDS: '0.25' })).toMatchObject({
      staleTimeoutSeconds: 0,
      heartbeatBridgeSeconds: 0.25,
    });
  });
});

describe('keys: the board keys a person chooses', () => {
  const parse = (yaml: string) => parseConfig(yaml, 'k.yaml');
  it('gives a command its own keys (one or a list), replacing the defaults', () => {
    expect(parse('keys:\n  reclaim: R\n  tick: [T, ctrl+t]\n').keys).toEqual({ reclaim: ['R'], tick: ['T', 'ctrl+t'] });
  });
  it.each([
    ['keys:\n  reclaimm: R\n', /keys\.reclaimm: no such board command/],
    ['keys:\n  reclaim: [RR]\n', /keys\.reclaim\.0: not a key/],
    ['keys:\n  quit: ctrl+c\n', /keys\.quit\.0: ctrl\+c is kept for quitting/],
    ['keys:\n  reclaim: u\n', /keys\.reclaim: the key "u" is both (unblock's and reclaim's|reclaim's and unblock's)/],
  ])('refuses %j naming the key', (yaml, message) => {
    expect(() => parse(yaml)).toThrow(message);
  });
});
