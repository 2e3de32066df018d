import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { kanban, kanbanJson, KANBAN_BIN } from '../helpers/cli.js';
import { tempDir } from '../helpers/board.js';
import { fixture } from '../helpers/processes.js';
import { spawnSync } from 'node:child_process';

// Each test here runs up to ~20 whole CLI processes one after another (~0.2 s each when the machine
// is idle); on a machine loaded by other runs one took 36 s and failed CI at the 30 s default. The
// deadline is the machine's, not the product's.
vi.setConfig({ testTimeout: 120_000 });

function newBoard(): string {
  return join(tempDir(), 'board.db');
}

/** A board that exists, empty (`kanban init`): reads refuse a board that does not. */
function emptyBoard(): string {
  const db = newBoard();
  expect(kanban(['--db', db, 'init']).code).toBe(0);
  return db;
}

describe('the task lifecycle through the CLI', () => {
  it('create, list and show agree, in JSON with snake_case contract fields', () => {
    const db = newBoard();
    const task = kanbanJson(db, ['create', 'Write the README', '--body', 'two commands first', '--assignee', 'coder', '--priority', '3']);
    for (const field of ['id', 'title', 'body', 'status', 'assignee', 'priority', 'parents', 'children', 'claim_lock', 'claim_expires', 'worker_pid',
      'current_run_id', 'last_heartbeat_at', 'consecutive_failures', 'max_retries', 'max_runtime_seconds', 'scheduled_until', 'workspace_kind',
      'workspace_path', 'created_at', 'updated_at']) {
      expect(task).toHaveProperty(field);
    }
    expect(task).toMatchObject({ title: 'Write the README', status: 'ready', assignee: 'coder', priority: 3 });
    expect(task.created_at).toBeGreaterThan(Date.now() - 60_000);
    expect(kanbanJson(db, ['list'])).toEqual([task]);
    const detail = kanbanJson(db, ['show', task.id]);
    expect(Object.keys(detail).sort()).toEqual(['comments', 'events', 'runs', 'task']);
    expect(detail.task).toEqual(task);
    expect(detail.events.map((e: { kind: string }) => e.kind)).toEqual(['created']);
  });

  it('walks a parent and child from todo to done', () => {
    const db = newBoard();
    const parent = kanbanJson(db, ['create', 'parent']);
    const child = kanbanJson(db, ['create', 'child', '--parent', parent.id]);
    expect(child).toMatchObject({ status: 'todo', parents: [parent.id] });
    expect(kanban(['--db', db, 'promote', child.id, '--dry-run']).code).toBe(1);
    kanbanJson(db, ['complete', parent.id, '--summary', 'done']);
    expect(kanbanJson(db, ['show', child.id]).task.status).toBe('ready');
    const blocked = kanbanJson(db, ['block', child.id, 'waiting for review']);
    expect(blocked).toMatchObject({ status: 'blocked', status_reason: 'waiting for review' });
    // `--in 2 hours`, as people type it: the unit is not taken for the reason; the line says when.
    const spelled = kanban(['--db', db, 'schedule', child.id, '--in', '2', 'hours']);
    expect(spelled.code, spelled.stderr).toBe(0);
    expect(spelled.stdout).toMatch(new RegExp(`^scheduled ${child.id}  scheduled  .*  due \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2} \\(in (1|2)h\\)\\n$`));
    const shown = kanbanJson(db, ['show', child.id]).task;
    expect(shown).toMatchObject({ status: 'scheduled', status_reason: null });
    expect(shown.scheduled_until).toBeGreaterThan(Date.now() + 7_100_000);
    expect(kanban(['--db', db, 'show', child.id]).stdout).toMatch(/due +\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \(in (1|2)h\)/);
    const scheduled = kanbanJson(db, ['schedule', child.id, '--in', '2h', 'tonight']);
    expect(scheduled.scheduled_until).toBeGreaterThan(Date.now() + 7_100_000);
    expect(kanbanJson(db, ['unblock', child.id])).toMatchObject({ status: 'ready', scheduled_until: null });
    expect(kanbanJson(db, ['complete', child.id])).toMatchObject({ status: 'done' });
    expect(kanbanJson(db, ['archive', child.id])).toMatchObject({ status: 'archived' });
    expect(kanbanJson(db, ['list']).map((t: { id: string }) => t.id)).toEqual([parent.id]);
    expect(kanbanJson(db, ['list', '--status', 'archived']).map((t: { id: string }) => t.id)).toEqual([child.id]);
  });

  it('edit, comment, link and unlink print the resulting task', () => {
    const db = newBoard();
    const a = kanbanJson(db, ['create', 'a']);
    const b = kanbanJson(db, ['create', 'b']);
    expect(kanbanJson(db, ['edit', a.id, '--title', 'A', '--assignee', 'coder', '--max-runtime', '15m'])).toMatchObject({
      title: 'A',
      assignee: 'coder',
      max_runtime_seconds: 900,
    });
    expect(kanbanJson(db, ['edit', a.id, '--assignee', 'none', '--max-runtime', 'none'])).toMatchObject({ assignee: null, max_runtime_seconds: null });
    expect(kanbanJson(db, ['comment', a.id, 'nice']).id).toBe(a.id);
    expect(kanbanJson(db, ['show', a.id]).comments[0]).toMatchObject({ author: 'user', body: 'nice' });
    expect(kanbanJson(db, ['link', a.id, b.id])).toMatchObject({ id: b.id, status: 'todo', parents: [a.id] });
    expect(kanbanJson(db, ['unlink', a.id, b.id])).toMatchObject({ id: b.id, status: 'ready', parents: [] });
  });

  it('create --triage, --status and --workspace', () => {
    const db = newBoard();
    const dir = tempDir();
    expect(kanbanJson(db, ['create', 't', '--triage']).status).toBe('triage');
    expect(kanbanJson(db, ['create', 't', '--status', 'blocked']).status).toBe('blocked');
    expect(kanbanJson(db, ['create', 't', '--workspace', `dir:${dir}`])).toMatchObject({ workspace_kind: 'dir', workspace_path: dir });
    expect(kanbanJson(db, ['create', 't', '--workspace', 'worktree'])).toMatchObject({ workspace_kind: 'worktree', workspace_path: null });
  });

  it('--idempotency-key returns the same task on a retry', () => {
    const db = newBoard();
    const first = kanbanJson(db, ['create', 'deploy', '--idempotency-key', 'deploy-42']);
    const retry = kanban(['--db', db, 'create', 'deploy', '--idempotency-key', 'deploy-42']);
    expect(retry.code).toBe(0);
    expect(retry.stdout).toMatch(new RegExp(`^exists ${first.id}`));
    expect(kanbanJson(db, ['list'])).toHaveLength(1);
  });

  it('unblock and archive act on each of several ids and report each', () => {
    const db = newBoard();
    const a = kanbanJson(db, ['create', 'a', '--status', 'blocked']);
    const b = kanbanJson(db, ['create', 'b']);
    const c = kanbanJson(db, ['create', 'c', '--status', 'blocked']);
    const result = kanban(['--db', db, 'unblock', a.id, b.id, c.id, '--json']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`kanban: cannot unblock ${b.id}: it is ready\n`);
    const report = JSON.parse(result.stdout);
    expect(report).toEqual([
      { id: a.id, ok: true, task: expect.objectContaining({ status: 'ready' }) },
      { id: b.id, ok: false, exit_code: 1, error: `cannot unblock ${b.id}: it is ready` },
      { id: c.id, ok: true, task: expect.objectContaining({ status: 'ready' }) },
    ]);
    const archived = kanban(['--db', db, 'archive', a.id, c.id]);
    expect(archived.code).toBe(0);
    expect(archived.stdout.split('\n').filter(Boolean)).toEqual([`archived ${a.id}  archived  a`, `archived ${c.id}  archived  c`]);
  });

  it('reopen takes a done or archived task back to ready (todo behind an unfinished parent), and refuses an open one', () => {
    const db = newBoard();
    const done = kanbanJson(db, ['create', 'shipped']);
    kanban(['--db', db, 'complete', done.id, '--summary', 'merged']);
    const archived = kanbanJson(db, ['create', 'hidden']);
    kanban(['--db', db, 'archive', archived.id]);
    const parent = kanbanJson(db, ['create', 'parent']);
    const child = kanbanJson(db, ['create', 'child', '--parent', parent.id]);
    for (const id of [parent.id, child.id]) expect(kanban(['--db', db, 'complete', id]).code).toBe(0);
    expect(kanban(['--db', db, 'reopen', parent.id]).stdout).toBe(`reopened ${parent.id}  ready  parent\n`);
    const open = kanbanJson(db, ['create', 'open']);
    const result = kanban(['--db', db, 'reopen', done.id, archived.id, child.id, open.id]);
    expect(result.code).toBe(1);
    expect(result.stdout.split('\n').filter(Boolean)).toEqual([`reopened ${done.id}  ready  shipped`, `reopened ${archived.id}  ready  hidden`, `reopened ${child.id}  todo  child`]);
    expect(result.stderr).toBe(`kanban: cannot reopen ${open.id}: it is ready\n`);
    const shown = kanbanJson(db, ['show', done.id]);
    expect(shown.events.at(-1)).toMatchObject({ kind: 'reopened', payload: { from: 'done', to: 'ready', source: 'user' } });
  });

  it('promote takes several ids with the same per-task report', () => {
    const db = newBoard();
    const a = kanbanJson(db, ['create', 'a', '--triage']);
    const parent = kanbanJson(db, ['create', 'parent']);
    const child = kanbanJson(db, ['create', 'child', '--parent', parent.id]);
    const result = kanban(['--db', db, 'promote', a.id, child.id, '--json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual([
      { id: a.id, ok: true, task: expect.objectContaining({ status: 'ready' }) },
      { id: child.id, ok: false, exit_code: 1, error: expect.stringMatching(/parent .* is not done/) },
    ]);
    expect(kanban(['--db', db, 'promote', child.id, '--force']).stdout).toMatch(new RegExp(`^promoted ${child.id}  ready`));
  });

  it('a malformed id among several changes nothing at all', () => {
    const db = newBoard();
    const a = kanbanJson(db, ['create', 'a', '--status', 'blocked']);
    expect(kanban(['--db', db, 'unblock', a.id, 'oops']).code).toBe(2);
    expect(kanbanJson(db, ['show', a.id]).task.status).toBe('blocked');
  });
});

describe('human output', () => {
  const hostile = 'Fix \u001b[31mred\u001b[0m \u001b]0;owned\u0007title\u001b[2J\r\nnext\u0007 \u202eevil';

  it('strips control sequences from titles and bodies, while JSON keeps them exactly', () => {
    const db = newBoard();
    const created = kanban(['--db', db, 'create', hostile, '--body', `body \u001b[1mbold\u001b[0m\nline two`]);
    expect(created.code).toBe(0);
    const id = created.stdout.split(' ')[1]!;
    for (const output of [created.stdout, kanban(['--db', db, 'list']).stdout, kanban(['--db', db, 'show', id]).stdout]) {
      expect(output).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
      expect(output).toContain('Fix red title next evil');
    }
    expect(kanban(['--db', db, 'show', id]).stdout).toContain('body bold\nline two');
    expect(kanbanJson(db, ['show', id]).task.title).toBe(hostile);
  });

  it('lists tasks as a table, and says so when there are none', () => {
    const db = emptyBoard();
    expect(kanban(['--db', db, 'list']).stdout).toBe('no tasks\n');
    kanban(['--db', db, 'create', 'first', '--assignee', 'coder', '--priority', '2']);
    const lines = kanban(['--db', db, 'list']).stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+PRI\s+ASSIGNEE\s+TITLE$/);
    expect(lines[1]).toMatch(/^t_[0-9a-f]{8}\s+ready\s+2\s+coder\s+first$/);
  });
});

describe('where the board lives', () => {
  it('--db beats KANBAN_DB beats --board beats KANBAN_BOARD beats KANBAN_HOME', () => {
    const home = tempDir();
    const env = { KANBAN_HOME: home };
    const explicit = join(tempDir(), 'explicit.db');
    const fromEnv = join(tempDir(), 'env.db');
    const init = (args: string[], extra: Record<string, string> = {}) => JSON.parse(kanban([...args, 'init', '--json'], { ...env, ...extra }).stdout).db;
    expect(init([])).toBe(join(home, 'board.db'));
    expect(init([], { KANBAN_BOARD: 'team-a' })).toBe(join(home, 'boards', 'team-a', 'board.db'));
    expect(init(['--board', 'team-b'], { KANBAN_BOARD: 'team-a' })).toBe(join(home, 'boards', 'team-b', 'board.db'));
    expect(init(['--board', 'team-b'], { KANBAN_DB: fromEnv })).toBe(fromEnv);
    expect(init(['--db', explicit], { KANBAN_DB: fromEnv })).toBe(explicit);
    expect(existsSync(join(home, 'boards', 'team-a', 'board.db'))).toBe(true);
  });

  it('KANBAN_HOME defaults to $XDG_DATA_HOME/kanban', () => {
    const xdg = tempDir();
    const result = kanban(['init', '--json'], { XDG_DATA_HOME: xdg });
    expect(JSON.parse(result.stdout)).toMatchObject({ db: join(xdg, 'kanban', 'board.db'), created: true });
  });

  it('global options work after the command too', () => {
    const db = newBoard();
    expect(kanban(['init', '--db', db, '--json']).code).toBe(0);
    expect(kanban(['init', '--db', db]).stdout).toBe(`board already exists at ${db}\n`);
  });

  it('a bad board name is bad input and creates nothing', () => {
    const home = tempDir();
    const result = kanban(['--board', '../escape', 'list'], { KANBAN_HOME: home });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^kanban: invalid board name '\.\.\/escape' \(--board\)/);
    expect(kanban(['list'], { KANBAN_HOME: home, KANBAN_BOARD: 'Has Caps' }).stderr).toMatch(/invalid board name 'Has Caps' \(KANBAN_BOARD\)/);
    expect(existsSync(join(home, 'boards'))).toBe(false);
  });
});

describe('startup', () => {
  /**
   * What a kanban command loads: the modules it requires (bin/kanban.js runs dist/bundle/cli.cjs,
   * which requires what it does not hold) and the ES modules it resolves (the board's Ink and React,
   * dist/bundle/screen.js), through a --require and an --import hook; last, its exit code.
   */
  function modulesLoadedBy(args: string[], env: Record<string, string> = {}): string[] {
    const dir = tempDir();
    const trace = join(dir, 'modules.txt');
    writeFileSync(trace, '');
    const result = spawnSync(process.execPath, ['--require', fixture('trace-requires.cjs'), '--import', fixture('trace-imports.mjs'), KANBAN_BIN, ...args], {
      env: { ...process.env, ...env, TRACE_IMPORTS_TO: trace, TRACE_REQUIRES_TO: trace },
      encoding: 'utf8',
    });
    const modules = readFileSync(trace, 'utf8').split('\n');
    expect(modules).toContain('node:vm'); // the trace works: bin/kanban.js requires it for cli.cjs
    return modules.filter(Boolean).concat(`exit ${result.status}`);
  }

  /**
   * Each heavy library, recognised by where it lies or by a string of its own in the ES modules of
   * dist/bundle (the screen's), or for zod, held inside cli.cjs, by the global it sets up.
   */
  const HEAVY: Record<string, { marker: string; file?: RegExp }> = {
    react: { marker: 'react.transitional.element' },
    ink: { marker: 'useStdin' },
    zod: { marker: 'ZodError' },
    yaml: { marker: 'YAMLParseError', file: /\/dist\/bundle\/yaml\.cjs$/ },
    execa: { marker: 'execaNode', file: /\/dist\/bundle\/execa\.cjs$/ },
  };
  function heavyLoaded(modules: string[]): string[] {
    const esm = modules.filter((m) => m.startsWith('file://') && m.includes('/dist/bundle/')).map((m) => readFileSync(new URL(m), 'utf8'));
    return Object.entries(HEAVY)
      .filter(([name, { marker, file }]) => esm.some((text) => text.includes(marker)) || (file && modules.some((m) => file.test(m))) || (name === 'zod' && modules.includes('zod: set up')))
      .map(([name]) => name);
  }

  it('the markers are real: the board loads React and Ink', () => {
    const modules = modulesLoadedBy(['--db', join(tempDir(), 'b.db'), 'tui']); // not a terminal: exits 2, after loading the board's code
    expect(heavyLoaded(modules)).toEqual(expect.arrayContaining(['react', 'ink', 'zod', 'yaml']));
  });

  it('kanban list loads neither the UI nor zod, yaml or execa', () => {
    const modules = modulesLoadedBy(['--db', emptyBoard(), 'list']);
    expect(modules.at(-1)).toBe('exit 0');
    expect(heavyLoaded(modules)).toEqual([]);
    expect(modules.filter((m) => /node_modules\/(ink|react|zod|yaml|execa|pg|chokidar)\/|dist\/bundle\/(screen\.js|\w+\.cjs)$/.test(m))).toEqual([]);
  });

  it('kanban stats, boards and completion load none of them either (config, which reads YAML, loads only yaml and zod)', () => {
    const db = emptyBoard();
    for (const args of [['--db', db, 'stats'], ['boards'], ['completion', 'bash']]) {
      const modules = modulesLoadedBy(args, { KANBAN_HOME: tempDir() });
      expect(modules.at(-1), args.join(' ')).toBe('exit 0');
      expect(heavyLoaded(modules), args.join(' ')).toEqual([]);
    }
    const config = modulesLoadedBy(['config', 'check'], { KANBAN_HOME: tempDir() });
    expect(config.at(-1)).toBe('exit 0');
    expect(heavyLoaded(config).sort()).toEqual(['yaml', 'zod']);
  });

  it('kanban block on a task that is not running loads none of them either (stopping a worker is loaded only for a running one)', () => {
    const db = join(tempDir(), 'b.db');
    const { id } = kanbanJson(db, ['create', 'x']);
    const modules = modulesLoadedBy(['--db', db, 'block', id, 'later']);
    expect(modules.at(-1)).toBe('exit 0');
    expect(heavyLoaded(modules)).toEqual([]);
  });

  it('kanban create (an assignee is checked against the config only when there is one) and kanban events load none of them either', () => {
    const db = join(tempDir(), 'b.db');
    const noConfig = { KANBAN_CONFIG: join(tempDir(), 'none.yaml') };
    for (const args of [['create', 'x'], ['create', 'y', '--assignee', 'coder'], ['events']]) {
      const modules = modulesLoadedBy(['--db', db, ...args], noConfig);
      expect(modules.at(-1), args.join(' ')).toBe('exit 0');
      expect(heavyLoaded(modules), args.join(' ')).toEqual([]);
    }
    const config = join(tempDir(), 'config.yaml');
    writeFileSync(config, 'profiles:\n  coder: { command: ["true"] }\n');
    const checked = modulesLoadedBy(['--db', db, 'create', 'z', '--assignee', 'coder'], { KANBAN_CONFIG: config });
    expect(checked.at(-1)).toBe('exit 0');
    expect(heavyLoaded(checked)).toEqual(expect.arrayContaining(['zod', 'yaml']));
  });

  it('kanban worker heartbeat (a worker calls it often) loads none of them either', () => {
    const env = { KANBAN_DB: join(tempDir(), 'b.db'), KANBAN_TASK: 't_00000000', KANBAN_RUN_ID: '1', KANBAN_CLAIM_LOCK: 'h:1:ab' };
    const modules = modulesLoadedBy(['worker', 'heartbeat'], env);
    expect(modules.at(-1)).toBe('exit 1'); // refused: no such run; the point is what it loaded
    expect(heavyLoaded(modules)).toEqual([]);
  });
});

describe('diagnostics', () => {
  it('--json gives generated_at and findings with rule, severity, task, reason and fix', () => {
    const db = newBoard();
    const parent = kanbanJson(db, ['create', 'parent']);
    const child = kanbanJson(db, ['create', 'child', '--parent', parent.id]);
    const report = kanbanJson(db, ['diagnostics']);
    expect(report.generated_at).toBeGreaterThan(Date.now() - 60_000);
    expect(report.findings).toEqual([
      {
        rule: 'dependency_wait',
        severity: 'warning',
        task_id: child.id,
        title: 'child',
        reason: `waiting on ${parent.id} (ready)`,
        fix: { command: `kanban promote ${child.id} --force`, key: 'P' },
      },
    ]);
    expect(kanban(['--db', db, 'diagnostics']).stdout).toContain(`fix: kanban promote ${child.id} --force  (board key: P)`);
  });

  it('groups a rule with many findings (the first in full, then the ids); --all lists each', () => {
    const db = newBoard();
    const parent = kanbanJson(db, ['create', 'parent']);
    const children = Array.from({ length: 6 }, (_, i) => kanbanJson(db, ['create', `child ${i}`, '--parent', parent.id]).id as string);
    const grouped = kanban(['--db', db, 'diagnostics']).stdout;
    expect(grouped.match(/^warning /gm)).toHaveLength(1);
    expect(grouped).toMatch(/…and 5 more dependency_wait: (t_[0-9a-f]{8} ){4}t_[0-9a-f]{8} \(--all lists each\)/);
    const all = kanban(['--db', db, 'diagnostics', '--all']).stdout;
    expect(all.match(/^warning /gm)).toHaveLength(6);
    for (const id of children) expect(all).toContain(id);
  });

  it('says so when nothing needs attention', () => {
    expect(kanban(['--db', emptyBoard(), 'diagnostics']).stdout).toBe('nothing needs attention\n');
  });
});
