import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.js';
import { blockTask, completeTask } from '../../src/store/lifecycle.js';
import { createTask } from '../../src/store/tasks.js';
import { expectFailure, fileHash, KANBAN_BIN, kanban } from '../helpers/cli.js';
import { taskIn, tempDir } from '../helpers/board.js';
import { cleanEnv, exited, startUntil } from '../helpers/processes.js';
import { setSchemaVersion } from '../helpers/sqlite-hooks.js';

/** One board shared by the read-only failure cases: every case must leave it byte-for-byte as it was. */
let db: string;
const ids: Record<string, string> = {};
const MISSING = 't_00000000';

beforeAll(() => {
  db = join(tempDir('kanban-exit-'), 'board.db');
  const store = openStore(db);
  ids.ready = createTask(store, { title: 'ready one' }).task.id;
  ids.parent = createTask(store, { title: 'open parent' }).task.id;
  ids.child = createTask(store, { title: 'waiting child', parents: [ids.parent] }).task.id;
  ids.grandchild = createTask(store, { title: 'grandchild', parents: [ids.child] }).task.id;
  ids.done = createTask(store, { title: 'finished' }).task.id;
  completeTask(store, ids.done);
  ids.blocked = createTask(store, { title: 'stuck' }).task.id;
  blockTask(store, ids.blocked, 'why not');
  ids.running = taskIn(store, 'running');
  ids.archived = taskIn(store, 'archived');
  store.close();
});

describe('exit 1: refused by the task’s state', () => {
  const cases: Array<[string, () => string[], RegExp]> = [
    ['unblock a ready task', () => ['unblock', ids.ready!], /^kanban: cannot unblock t_[0-9a-f]{8}: it is ready$/],
    ['promote past an unfinished parent', () => ['promote', ids.child!], /cannot promote t_\w+: parent t_\w+ is not done \(ready\) \(--force promotes anyway\)/],
    ['promote --dry-run past an unfinished parent', () => ['promote', ids.child!, '--dry-run'], /parent t_\w+ is not done/],
    ['link into a cycle', () => ['link', ids.grandchild!, ids.parent!], /which would make a cycle/],
    ['link a task to itself', () => ['link', ids.ready!, ids.ready!], /cannot link t_\w+ to itself/],
    ['unlink tasks that are not linked', () => ['unlink', ids.ready!, ids.done!], /is not a parent of/],
    ['complete a done task', () => ['complete', ids.done!], /cannot complete t_\w+: it is done/],
    ['archive an archived task', () => ['archive', ids.archived!], /cannot archive t_\w+: it is archived/],
    ['block a blocked task', () => ['block', ids.blocked!], /cannot block t_\w+: it is blocked/],
    ['schedule a done task', () => ['schedule', ids.done!, '--in', '1h'], /cannot schedule t_\w+: it is done/],
    ['clear the claim of a running task', () => ['edit', ids.running!, '--clear-claim'], /it is running \(reclaim it instead\)/],
    ['reassign a running task', () => ['edit', ids.running!, '--assignee', 'other', '--title', 'renamed'], /^kanban: cannot reassign t_\w+: it is running as nobody \(reclaim or block it first\)$/],
    ['create as ready under an unfinished parent', () => ['create', 'x', '--parent', ids.parent!, '--status', 'ready'], /parent t_\w+ is not done/],
  ];
  it.each(cases)('%s', (_name, args, message) => {
    expectFailure(db, args(), 1, message);
  });
});

describe('exit 2: bad input', () => {
  const cases: Array<[string, () => string[], RegExp, Record<string, string>?]> = [
    ['an unknown command', () => ['frobnicate'], /^kanban: unknown command 'frobnicate'$/],
    ['an unknown option', () => ['list', '--colour'], /^kanban: unknown option '--colour'$/],
    ['a missing argument', () => ['create'], /^kanban: missing required argument 'title'$/],
    ['an extra argument', () => ['show', ids.ready!, 'extra'], /too many arguments/],
    ['an empty title', () => ['create', '  '], /a task needs a title/],
    ['a priority that is not a number', () => ['create', 'x', '--priority', 'high'], /invalid priority 'high': expected a whole number/],
    ['a duration that is not one', () => ['create', 'x', '--max-runtime', 'soon'], /invalid max runtime 'soon'/],
    ['max retries of 0', () => ['create', 'x', '--max-retries', '0'], /invalid max retries '0'/],
    ['a create status outside todo/ready/blocked', () => ['create', 'x', '--status', 'done'], /invalid status 'done': use one of todo, ready, blocked/],
    ['--triage with --status', () => ['create', 'x', '--triage', '--status', 'todo'], /either triage or a status/],
    ['a relative dir workspace', () => ['create', 'x', '--workspace', 'dir:src'], /invalid workspace 'dir:src'/],
    ['a dir workspace that does not exist', () => ['create', 'x', '--workspace', 'dir:/no/such/dir'], /is not an existing directory/],
    ['an assignee with spaces', () => ['create', 'x', '--assignee', 'two words'], /invalid assignee 'two words'/],
    ['a malformed task id', () => ['show', 'nope'], /^kanban: invalid task id 'nope': expected t_ and 8 hex characters, like t_1a2b3c4d$/],
    ['a malformed parent id', () => ['create', 'x', '--parent', 't_xyz'], /invalid task id 't_xyz'/],
    ['schedule with neither --at nor --in', () => ['schedule', ids.ready!], /exactly one of --at TIME or --in DURATION/],
    ['schedule with both --at and --in', () => ['schedule', ids.ready!, '--in', '1h', '--at', '2099-01-01'], /exactly one of/],
    ['schedule at a time that is not ISO 8601', () => ['schedule', ids.ready!, '--at', 'tomorrow'], /invalid time 'tomorrow': use ISO 8601/],
    ['schedule at an impossible date', () => ['schedule', ids.ready!, '--at', '2099-02-30'], /invalid time '2099-02-30'/],
    ['schedule in the past', () => ['schedule', ids.ready!, '--at', '2001-01-01T00:00:00Z'], /that time has passed/],
    ['edit with nothing to change', () => ['edit', ids.ready!], /edit needs at least one of/],
    ['an unknown list status', () => ['list', '--status', 'ready,bogus'], /invalid status 'bogus'/],
    ['an unknown sort key', () => ['list', '--sort', 'mood'], /^kanban: invalid sort key 'mood': use one of status, priority, created, updated, title, id$/],
    ['a list limit of 0', () => ['list', '--limit', '0'], /^kanban: invalid limit '0': expected a whole number of at least 1$/],
    ['a list limit that is not a number', () => ['list', '-n', 'ten'], /^kanban: invalid limit 'ten': expected a whole number$/],
    ['an empty comment', () => ['comment', ids.ready!, ' '], /a comment needs some text/],
    ['a malformed busy timeout', () => ['list'], /invalid KANBAN_BUSY_TIMEOUT_MS 'soon': expected a non-negative number/, { KANBAN_BUSY_TIMEOUT_MS: 'soon' }],
  ];
  it.each(cases)('%s', (_name, args, message, env) => {
    expectFailure(db, args(), 2, message, env ?? {});
  });
});

describe('exit 3: no such task', () => {
  const cases: Array<[string, () => string[]]> = [
    ['show', () => ['show', MISSING]],
    ['edit', () => ['edit', MISSING, '--title', 'x']],
    ['comment', () => ['comment', MISSING, 'hi']],
    ['block', () => ['block', MISSING]],
    ['unblock', () => ['unblock', MISSING]],
    ['schedule', () => ['schedule', MISSING, '--in', '1h']],
    ['promote', () => ['promote', MISSING]],
    ['complete', () => ['complete', MISSING]],
    ['archive', () => ['archive', MISSING]],
    ['link (parent)', () => ['link', MISSING, ids.ready!]],
    ['link (child)', () => ['link', ids.ready!, MISSING]],
    ['unlink', () => ['unlink', MISSING, ids.ready!]],
    ['create --parent', () => ['create', 'orphan', '--parent', MISSING]],
  ];
  it.each(cases)('%s', (_name, args) => {
    expectFailure(db, args(), 3, /^kanban: no such task: t_00000000$/);
  });
});

describe('exit 4: the board cannot be used', () => {
  it('a file that is not a board: named in the message, left as it is; a read writes nothing beside it, a write copies it aside', () => {
    const dir = tempDir();
    const path = join(dir, 'notes.txt');
    writeFileSync(path, 'definitely not sqlite');
    expectFailure(path, ['list'], 4, /^kanban: .*notes\.txt is not a kanban board \(not a SQLite database\); it was left as it is$/);
    expect(readdirSync(dir)).toEqual(['notes.txt']);
    expectFailure(path, ['create', 'x'], 4, /^kanban: board .*notes\.txt is corrupt \(it is not a SQLite database\); it was left as it is and a copy was saved as .*\.bak$/);
  });

  it('a board that fails the full check: a dispatcher (dispatch, tui --no-ui) and init refuse it, naming what the check found, and copy it aside', () => {
    const dir = tempDir();
    const path = join(dir, 'board.db');
    const store = openStore(path);
    for (let i = 0; i < 300; i++) createTask(store, { title: `task ${i}`, body: 'x'.repeat(200) });
    store.close();
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(64, 0xff), 0, 64, 4096 * 3); // a b-tree page header scribbled over
    closeSync(fd);
    for (const args of [['dispatch'], ['tui', '--no-ui'], ['init']]) {
      expectFailure(path, args, 4, /^kanban: board .*board\.db is corrupt \(quick_check: .*\); it was left as it is and a copy was saved as .*\.bak$/);
    }
    expect(readdirSync(dir).filter((name) => name.endsWith('.bak'))).toHaveLength(1);
  });

  it('a board that does not exist: a read says so and names kanban init, and creates nothing', () => {
    const home = tempDir();
    for (const args of [['--board', 'typo', 'list'], ['--db', join(home, 'nowhere', 'board.db'), 'show', MISSING], ['--board', 'typo', 'diagnostics'], ['--board', 'typo', 'log', MISSING]]) {
      const result = kanban(args, { KANBAN_HOME: home });
      expect(result.code, result.stderr).toBe(4);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^kanban: no board at .*board\.db: `kanban init` creates one \(so does any command that writes\)\n$/);
    }
    expect(readdirSync(home)).toEqual([]);
  });

  it('a board from a newer kanban', () => {
    const path = join(tempDir(), 'board.db');
    openStore(path).close();
    setSchemaVersion(path, 42);
    expectFailure(path, ['create', 'x'], 4, /was written by a newer kanban \(schema version 42; .*\): upgrade kanban/);
  });

  it('a board locked past the busy timeout', async () => {
    const path = join(tempDir(), 'board.db');
    openStore(path).close();
    const holder = await startUntil('hold-lock.mjs', [path, '120000'], 'locked'); // until killed below, however slow the machine
    const before = fileHash(path);
    const result = kanban(['--db', path, 'create', 'x'], { KANBAN_BUSY_TIMEOUT_MS: '200' });
    holder.kill();
    await exited(holder);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/^kanban: board .* is locked by another process \(waited 200 ms\)\n$/);
    expect(fileHash(path)).toBe(before);
  });

  it('a path that is a directory', () => {
    const dir = tempDir();
    const result = kanban(['--db', dir, 'list']);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/^kanban: cannot use board .*: it is a directory\n$/);
  });
});

describe('exit 0', () => {
  it('help and version print to stdout and succeed', () => {
    expect(kanban(['--help'])).toMatchObject({ code: 0, stderr: '' });
    expect(kanban(['--help']).stdout).toMatch(/Usage: kanban/);
    expect(kanban(['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(kanban([]).stdout).toMatch(/Commands:/);
  });
});

describe('output that cannot be written', () => {
  /** Runs the CLI with its stdout or stderr a pipe nobody reads (closed at once), or closed outright. */
  async function withOutputGone(args: string[], stream: 'stdout' | 'stderr', how: 'pipe' | 'closed'): Promise<number | null> {
    const stdio: Array<'ignore' | 'pipe'> = ['ignore', 'ignore', 'ignore'];
    stdio[stream === 'stdout' ? 1 : 2] = 'pipe';
    // `node -e CODE BIN ARGS…` gives the CLI the argv it gets from `node BIN ARGS…`.
    const args0 = how === 'closed' ? ['-e', `require('fs').closeSync(${stream === 'stdout' ? 1 : 2}); import(${JSON.stringify(KANBAN_BIN)})`, KANBAN_BIN] : [KANBAN_BIN];
    const child = spawn(process.execPath, [...args0, ...args], { stdio, env: cleanEnv() });
    child[stream]!.destroy(); // the reader is gone before the first write
    return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  it('a failure keeps its exit code when stderr is a closed pipe or closed', async () => {
    expect(await withOutputGone(['--db', db, 'nosuch'], 'stderr', 'pipe')).toBe(2);
    expect(await withOutputGone(['--db', db, 'show', MISSING], 'stderr', 'pipe')).toBe(3);
    expect(await withOutputGone(['--db', db, 'show', MISSING], 'stderr', 'closed')).toBe(3);
  });

  it('a listing whose reader went away exits 0', async () => {
    expect(await withOutputGone(['--db', db, 'list'], 'stdout', 'pipe')).toBe(0);
  });
});

describe('the dispatcher commands on bad input', () => {
  it('an invalid config is exit 2, naming the key, and changes nothing', () => {
    const config = join(tempDir(), 'config.yaml');
    writeFileSync(config, 'profiles:\n  coder:\n    command: "agent --task {task_id}"\n');
    for (const args of [['dispatch'], ['tui', '--no-ui'], ['reclaim', '--stale']]) {
      expectFailure(db, args, 2, /^kanban: invalid config .*config\.yaml: profiles\.coder\.command: /, { KANBAN_CONFIG: config });
    }
  });

  it('a malformed duration in the environment is exit 2', () => {
    expectFailure(db, ['dispatch'], 2, /^kanban: invalid KANBAN_TICK_SECONDS 'fast'/, { KANBAN_TICK_SECONDS: 'fast', KANBAN_CONFIG: join(tempDir(), 'none.yaml') });
    expectFailure(db, ['tui', '--no-ui', '--tick', '0'], 2, /invalid --tick '0'/);
  });

  it('kanban tui without a terminal says so, and points at --no-ui', () => {
    expectFailure(db, ['tui'], 2, /^kanban: kanban tui needs a terminal; kanban tui --no-ui runs the dispatcher headless$/);
  });
});
