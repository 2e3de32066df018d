import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectFailure, kanban, kanbanJson } from '../helpers/cli.js';
import { tempDir } from '../helpers/board.js';

/** The CLI as people type it: short flags, limits, and times shown one way. */

function newBoard(): string {
  return join(tempDir(), 'board.db');
}

/** `2026-12-01 09:00:00 (5s ago)`: local time to the second, then how long ago or how far ahead. */
const WHEN = String.raw`\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \((?:in )?\d+[smhd](?: ago)?\)`;

describe('short flags', () => {
  it('-j is --json everywhere; create takes -b -a -P -p -s; edit -t -b -a -P; list -s -a -n', () => {
    const db = newBoard();
    const parent = JSON.parse(kanban(['--db', db, 'create', 'parent', '-j']).stdout);
    const child = JSON.parse(kanban(['-j', '--db', db, 'create', 'child', '-b', 'the body', '-a', 'coder', '-P', '3', '-p', parent.id]).stdout);
    expect(child).toMatchObject({ body: 'the body', assignee: 'coder', priority: 3, parents: [parent.id], status: 'todo' });
    expect(kanbanJson(db, ['create', 'stuck', '-s', 'blocked']).status).toBe('blocked');

    const edited = kanbanJson(db, ['edit', parent.id, '-t', 'Parent', '-b', 'B', '-a', 'reviewer', '-P', '5']);
    expect(edited).toMatchObject({ title: 'Parent', body: 'B', assignee: 'reviewer', priority: 5 });

    expect(kanbanJson(db, ['list', '-s', 'todo,blocked']).map((t: { title: string }) => t.title)).toEqual(['child', 'stuck']);
    expect(kanbanJson(db, ['list', '-a', 'reviewer']).map((t: { id: string }) => t.id)).toEqual([parent.id]);
    expect(kanbanJson(db, ['list', '-n', '1', '--sort', 'priority']).map((t: { id: string }) => t.id)).toEqual([parent.id]);
  });

  it('help shows them', () => {
    expect(kanban(['create', '--help']).stdout).toMatch(/-a, --assignee <profile>/);
    expect(kanban(['list', '--help']).stdout).toMatch(/-n, --limit <n>/);
    expect(kanban(['--help']).stdout).toMatch(/-j, --json/);
  });
});

describe('list --limit and --sort', () => {
  it('--limit keeps the first N in the sort order, in the table and in JSON', () => {
    const db = newBoard();
    for (const [title, priority] of [['b', '1'], ['c', '3'], ['a', '2']] as const) kanban(['--db', db, 'create', title, '--priority', priority]);
    const titles = (args: string[]) => kanbanJson(db, ['list', ...args]).map((t: { title: string }) => t.title);
    expect(titles(['--sort', 'title'])).toEqual(['a', 'b', 'c']);
    expect(titles(['--sort', 'title', '--limit', '2'])).toEqual(['a', 'b']);
    expect(titles(['--sort', 'priority', '--limit', '1'])).toEqual(['c']);
    expect(titles(['--sort', 'created', '--limit', '5'])).toEqual(['b', 'c', 'a']);
    const ids = kanbanJson(db, ['list', '--sort', 'id']).map((t: { id: string }) => t.id);
    expect(ids).toEqual([...ids].sort());
    const table = kanban(['--db', db, 'list', '--sort', 'title', '-n', '2']).stdout.trim().split('\n');
    expect(table).toHaveLength(3); // the header and two tasks
    expect(table[2]).toMatch(/\bb$/);
  });
});

describe('times', () => {
  it('show prints every time as local time and how long ago', () => {
    const db = newBoard();
    const task = kanbanJson(db, ['create', 'timed']);
    kanban(['--db', db, 'comment', task.id, 'a note']);
    kanban(['--db', db, 'complete', task.id]);
    const out = kanban(['--db', db, 'show', task.id]).stdout;
    for (const label of ['created', 'updated', 'completed']) expect(out).toMatch(new RegExp(`^${label} +${WHEN}$`, 'm'));
    expect(out).toMatch(new RegExp(`^  ${WHEN}  user: a note$`, 'm'));
    expect(out).toMatch(new RegExp(`^  ${WHEN}  created `, 'm'));
  });
});

describe('assigning a profile the config does not name', () => {
  /** A board, and a config naming `profiles` (or holding `text`). */
  function setup(config: string | null): { db: string; env: Record<string, string>; path: string } {
    const dir = tempDir();
    const db = join(dir, 'board.db');
    const path = join(dir, 'config.yaml');
    if (config !== null) writeFileSync(path, config);
    expect(kanban(['--db', db, 'init']).code).toBe(0);
    return { db, path, env: { KANBAN_CONFIG: path } };
  }
  const TWO = 'profiles:\n  coder: { command: ["true"] }\n  reviewer: { command: ["true"] }\n';

  it('create, edit and import refuse it (exit 2, board unchanged) and name the profiles; --force assigns it anyway', () => {
    const { db, env, path } = setup(TWO);
    const message = new RegExp(`^kanban: no profile "ghost" in ${path.replace(/[.]/g, '\\.')} \\(profiles: coder, reviewer\\); --force assigns it anyway$`);
    const task = kanbanJson(db, ['create', 'x', '-a', 'coder'], env);
    expectFailure(db, ['create', 'y', '--assignee', 'ghost'], 2, message, env);
    expectFailure(db, ['edit', task.id, '-a', 'ghost'], 2, message, env);
    const lines = join(tempDir(), 'lines.jsonl');
    writeFileSync(lines, '{"title": "fine", "assignee": "reviewer"}\n{"title": "z", "assignee": "ghost"}\n');
    expectFailure(db, ['import', lines], 2, new RegExp(`^kanban: line 2: no profile "ghost" in .*config\\.yaml \\(profiles: coder, reviewer\\); --force assigns it anyway$`), env);

    expect(kanbanJson(db, ['create', 'y', '-a', 'ghost', '--force'], env).assignee).toBe('ghost');
    expect(kanbanJson(db, ['edit', task.id, '-a', 'ghost', '--force'], env).assignee).toBe('ghost');
    expect(kanbanJson(db, ['edit', task.id, '-a', 'none'], env).assignee).toBe(null);
    expect(kanbanJson(db, ['edit', task.id, '-a', 'reviewer'], env).assignee).toBe('reviewer');
    expect(kanbanJson(db, ['import', lines, '--force'], env).map((t: { assignee: string }) => t.assignee)).toEqual(['reviewer', 'ghost']);
  });

  it('a config without profiles says so', () => {
    const { db, env } = setup('tick_seconds: 2\n');
    expectFailure(db, ['create', 'y', '-a', 'coder'], 2, /^kanban: no profile "coder" in .*config\.yaml \(no profiles configured\); --force assigns it anyway$/, env);
  });

  it('an invalid config is exit 2 naming the key, unless --force, which does not read it', () => {
    const { db, env } = setup('profiles:\n  coder:\n    command: "a shell string"\n');
    expectFailure(db, ['create', 'y', '-a', 'coder'], 2, /^kanban: invalid config .*config\.yaml: profiles\.coder\.command: /, env);
    expect(kanban(['--db', db, 'create', 'y', '-a', 'coder', '--force'], env).code).toBe(0);
  });

  it('with no config file there is nothing to check against: any profile is taken', () => {
    const { db, env } = setup(null);
    expect(kanbanJson(db, ['create', 'y', '-a', 'anyone'], env).assignee).toBe('anyone');
  });

  it('edit --force alone is not a change', () => {
    const { db, env } = setup(TWO);
    const task = kanbanJson(db, ['create', 'x'], env);
    expectFailure(db, ['edit', task.id, '--force'], 2, /^kanban: edit needs at least one of /, env);
  });
});
