import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/board.js';
import { expectFails, kanban, KANBAN_BIN } from '../helpers/cli.js';
import { cleanEnv } from '../helpers/processes.js';
import { openScreen, type Screen } from '../helpers/pty.js';

const children: ChildProcess[] = [];
const screens: Screen[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const screen of screens.splice(0)) {
    screen.kill('SIGKILL');
    await screen.exited;
  }
});

function home(): { home: string; env: Record<string, string>; board: (slug: string) => string } {
  const dir = join(tempDir('kanban-boards-'), 'home');
  return { home: dir, env: { KANBAN_HOME: dir }, board: (slug) => join(dir, 'boards', slug, 'board.db') };
}

function ok(args: string[], env: Record<string, string>): string {
  const result = kanban(args, env);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
}

/** A process started with `args` that prints `ready` on stderr once it runs. */
function startUntil(argv: string[], env: Record<string, string>, ready: RegExp): Promise<ChildProcess> {
  const child = spawn(argv[0]!, argv.slice(1), { env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      if (ready.test(err)) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`exited ${code} before it was ready: ${err}`)));
  });
}

describe('kanban boards', () => {
  it('lists the default board and the named ones: tasks, running, size, last change, the current one marked', () => {
    const h = home();
    expect(ok(['boards'], h.env)).toMatch(/^no boards in .*: `kanban init` makes the default one/);
    ok(['init'], h.env);
    expect(ok(['boards', 'create', 'work'], h.env)).toBe(`created board work at ${h.board('work')}\n`);
    ok(['--board', 'work', 'create', 'one'], h.env);
    ok(['--board', 'work', 'create', 'two'], h.env);
    ok(['boards', 'create', 'home-2'], h.env);
    mkdirSync(join(h.home, 'boards', 'Not A Slug'));
    writeFileSync(join(h.home, 'boards', 'Not A Slug', 'board.db'), '');
    const listed = JSON.parse(ok(['--board', 'work', 'boards', 'list', '--json'], h.env));
    expect(listed.map((b: { slug: string | null }) => b.slug)).toEqual([null, 'home-2', 'work']);
    expect(listed[2]).toMatchObject({ slug: 'work', path: h.board('work'), current: true, tasks: 2, running: 0, error: null });
    expect(listed[2].size_bytes).toBeGreaterThan(0);
    expect(listed[2].last_change_at).toBeGreaterThan(Date.now() - 600_000);
    const text = ok(['--board', 'work', 'boards'], h.env).split('\n');
    expect(text[0]).toMatch(/^ +BOARD +TASKS +RUNNING +SIZE +LAST CHANGE +PATH$/);
    expect(text[1]).toMatch(/^ +\(default\) +0 +0 +[\d.]+ KiB +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +.*\/board\.db$/);
    expect(text[3]).toMatch(/^\* +work +2 +0 /);
  });

  it('a board it cannot read shows as unreadable, and is left exactly as it is', () => {
    const h = home();
    mkdirSync(join(h.home, 'boards', 'junk'), { recursive: true });
    writeFileSync(h.board('junk'), 'not a database at all, but long enough to look like a file\n'.repeat(20));
    const before = readdirSync(join(h.home, 'boards', 'junk'));
    const [entry] = JSON.parse(ok(['boards', '--json'], h.env));
    expect(entry).toMatchObject({ slug: 'junk', tasks: null, error: expect.stringMatching(/not a database/) });
    expect(ok(['boards'], h.env)).toMatch(/junk +\? +\? .*\(unreadable: file is not a database\)/);
    expect(readdirSync(join(h.home, 'boards', 'junk'))).toEqual(before);
  });

  it('create refuses a bad slug (exit 2) and an existing board (exit 1), changing nothing', () => {
    const h = home();
    expectFails(['boards', 'create', '../escape'], h.env, 2, /invalid board name '\.\.\/escape' \(boards create\)/);
    expectFails(['boards', 'create', 'Caps'], h.env, 2, /invalid board name 'Caps'/);
    expect(existsSync(h.home)).toBe(false);
    ok(['boards', 'create', 'work'], h.env);
    ok(['--board', 'work', 'create', 'keep me'], h.env);
    expectFails(['boards', 'create', 'work'], h.env, 1, /board work already exists at /, [h.board('work')]);
  });
});

describe('kanban boards rm', () => {
  it('with --yes removes the board folder: board, logs, workspaces; the other boards stay', () => {
    const h = home();
    ok(['boards', 'create', 'work'], h.env);
    ok(['boards', 'create', 'other'], h.env);
    mkdirSync(join(h.home, 'boards', 'work', 'logs'));
    writeFileSync(join(h.home, 'boards', 'work', 'logs', 't_00000000.log'), 'output');
    expect(ok(['boards', 'rm', 'work', '--yes'], h.env)).toBe(`removed board work (${join(h.home, 'boards', 'work')})\n`);
    expect(readdirSync(join(h.home, 'boards'))).toEqual(['other']);
  });

  it('without a terminal it needs --yes (exit 2); a bad slug is exit 2, a missing board exit 4', () => {
    const h = home();
    ok(['boards', 'create', 'work'], h.env);
    expectFails(['boards', 'rm', 'work'], h.env, 2, /boards rm work needs --yes when stdin is not a terminal; nothing removed/, [h.board('work')]);
    expectFails(['boards', 'rm', '../work', '--yes'], h.env, 2, /invalid board name '\.\.\/work' \(boards rm\)/);
    expectFails(['boards', 'rm', 'nope', '--yes'], h.env, 4, /no board named nope in /);
    expect(existsSync(h.board('work'))).toBe(true);
  });

  it('never follows a symbolic link out of $KANBAN_HOME/boards, and leaves a folder that is not a board', () => {
    const h = home();
    const outside = tempDir('kanban-outside-');
    writeFileSync(join(outside, 'board.db'), 'precious');
    mkdirSync(join(h.home, 'boards'), { recursive: true });
    symlinkSync(outside, join(h.home, 'boards', 'link'));
    expectFails(['boards', 'rm', 'link', '--yes'], h.env, 1, /boards\/link is a symbolic link: .*never what a link leads to/, [join(outside, 'board.db')]);
    expect(existsSync(join(h.home, 'boards', 'link'))).toBe(true);
    mkdirSync(join(h.home, 'boards', 'linked-file'));
    symlinkSync(join(outside, 'board.db'), join(h.home, 'boards', 'linked-file', 'board.db'));
    expectFails(['boards', 'rm', 'linked-file', '--yes'], h.env, 1, /holds no board file/, [join(outside, 'board.db')]);
    mkdirSync(join(h.home, 'boards', 'notes'));
    writeFileSync(join(h.home, 'boards', 'notes', 'todo.txt'), 'mine');
    expectFails(['boards', 'rm', 'notes', '--yes'], h.env, 1, /holds no board file \(board\.db\): not a board, left as it is/, [join(h.home, 'boards', 'notes', 'todo.txt')]);
  });

  it('refuses while a dispatcher has the board open, or a worker runs for it; once they are gone it removes it', async () => {
    const h = home();
    ok(['boards', 'create', 'busy'], h.env);
    const dispatcher = await startUntil([process.execPath, KANBAN_BIN, '--board', 'busy', 'tui', '--no-ui'], h.env, /dispatching /);
    expectFails(['boards', 'rm', 'busy', '--yes'], h.env, 1, new RegExp(`board busy is in use by process ${dispatcher.pid} \\(node\\): stop its dispatcher`), [h.board('busy')]);
    dispatcher.kill('SIGTERM');
    await new Promise((resolve) => dispatcher.once('exit', resolve));
    const worker = await startUntil([process.execPath, '-e', 'process.stderr.write("working\\n"); setInterval(() => {}, 1000)'], { KANBAN_DB: h.board('busy') }, /working/);
    expectFails(['boards', 'rm', 'busy', '--yes'], h.env, 1, new RegExp(`in use by process ${worker.pid} `), [h.board('busy')]);
    worker.kill('SIGKILL');
    await new Promise((resolve) => worker.once('exit', resolve));
    ok(['boards', 'rm', 'busy', '--yes'], h.env);
    expect(existsSync(join(h.home, 'boards', 'busy'))).toBe(false);
  });

  it('on a terminal it asks for the slug: anything else removes nothing (exit 1); the slug removes it', async () => {
    const h = home();
    ok(['boards', 'create', 'work'], h.env);
    ok(['--board', 'work', 'create', 'a task'], h.env);
    const env = { ...cleanEnv(), ...h.env };
    const declined = openScreen(['boards', 'rm', 'work'], env, 120, 10);
    screens.push(declined);
    await declined.waitFor('the question', (t) => t.includes('type the slug to confirm:'));
    expect(declined.text()).toMatch(/remove board work \(1 tasks, [\d.]+ KiB\) with its logs and workspaces/);
    await declined.press('yes\r');
    expect(await declined.exited).toBe(1);
    expect(declined.text()).toContain('kanban: not confirmed: board work was not removed');
    expect(existsSync(h.board('work'))).toBe(true);

    const confirmed = openScreen(['boards', 'rm', 'work'], env, 120, 10);
    screens.push(confirmed);
    await confirmed.waitFor('the question', (t) => t.includes('type the slug to confirm:'));
    await confirmed.press('work\r');
    expect(await confirmed.exited).toBe(0);
    expect(confirmed.text()).toContain('removed board work');
    expect(existsSync(join(h.home, 'boards', 'work'))).toBe(false);
  });
});
