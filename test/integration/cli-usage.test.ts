import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kanban, kanbanJson } from '../helpers/cli.js';
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
