import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectFailure, fileHash, kanban, kanbanJson, KANBAN_BIN } from '../helpers/cli.js';
import { tempDir } from '../helpers/board.js';
import { cleanEnv } from '../helpers/processes.js';

/** `kanban import FILE|-`: JSON lines, one task per line, all in one transaction. */

function newBoard(): string {
  const db = join(tempDir(), 'board.db');
  expect(kanban(['--db', db, 'init']).code).toBe(0);
  return db;
}

function file(text: string): string {
  const path = join(tempDir(), 'tasks.jsonl');
  writeFileSync(path, text);
  return path;
}

/** The board's titles, sorted (tasks made in one import share their created_at). */
const titles = (db: string) => kanbanJson(db, ['list', '--sort', 'title']).map((t: { title: string }) => t.title);

describe('kanban import', () => {
  it('creates each line as create would, parents by id or by line number, skipping blank and # lines', () => {
    const db = newBoard();
    const existing = kanbanJson(db, ['create', 'existing']);
    const dir = tempDir();
    const path = file(
      [
        '# the plan',
        '{"title": "design", "priority": 2, "body": "sketch it", "assignee": "coder"}',
        '',
        `{"title": "build", "parents": [2, "${existing.id}"], "max_runtime": "15m", "max_retries": 3}`,
        '{"title": "ship", "parents": [4], "workspace": "dir:' + dir + '", "idempotency_key": "ship-1"}',
        '{"title": "someday", "triage": true}',
        '{"title": "parked", "status": "blocked", "priority": "-1"}',
      ].join('\n') + '\n',
    );
    const result = kanban(['--db', db, 'import', path]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines.map((l) => l.replace(/t_[0-9a-f]{8}/, 'ID'))).toEqual([
      'created ID  ready  design',
      'created ID  todo  build',
      'created ID  todo  ship',
      'created ID  triage  someday',
      'created ID  blocked  parked',
    ]);
    const [design, build, ship] = lines.map((l) => l.split(' ')[1]!);
    expect(kanbanJson(db, ['show', design!]).task).toMatchObject({ body: 'sketch it', assignee: 'coder', priority: 2, children: [build] });
    expect(kanbanJson(db, ['show', build!]).task).toMatchObject({ parents: [design, existing.id].sort(), max_runtime_seconds: 900, max_retries: 3 });
    expect(kanbanJson(db, ['show', ship!]).task).toMatchObject({ parents: [build], workspace_kind: 'dir', workspace_path: dir, idempotency_key: 'ship-1' });
    expect(titles(db)).toEqual(['build', 'design', 'existing', 'parked', 'ship', 'someday']);
    expect(kanbanJson(db, ['show', ship!]).events.map((e: { kind: string }) => e.kind)).toEqual(['created']);
  });

  it('reads stdin with -, prints a JSON array with --json, and an idempotency key already held says exists', () => {
    const db = newBoard();
    const text = '{"title": "a", "idempotency_key": "k-a"}\n{"title": "b", "parents": [1]}\n';
    const run = () => spawnSync(process.execPath, [KANBAN_BIN, '--db', db, 'import', '-', '--json'], { input: text, encoding: 'utf8', env: cleanEnv() });
    const first = run();
    expect(first.status, first.stderr).toBe(0);
    const tasks = JSON.parse(first.stdout);
    expect(tasks).toHaveLength(2);
    expect(tasks[1]).toMatchObject({ title: 'b', status: 'todo', parents: [tasks[0].id] });
    const again = kanban(['--db', db, 'import', file(text)]);
    expect(again.stdout.split('\n')[0]).toBe(`exists ${tasks[0].id}  ready  a`);
    expect(titles(db)).toEqual(['a', 'b', 'b']);
  });

  it('--dry-run says what it would create and writes nothing', () => {
    const db = newBoard();
    kanban(['--db', db, 'create', 'already here']);
    const before = fileHash(db);
    const path = file('{"title": "one"}\n# two\n{"title": "three", "parents": [1]}\n');
    const result = kanban(['--db', db, 'import', path, '--dry-run']);
    expect(result).toMatchObject({ code: 0, stderr: '', stdout: 'would create line 1  ready  one\nwould create line 3  todo  three\n' });
    expect(kanbanJson(db, ['import', path, '--dry-run']).map((t: { title: string; status: string }) => [t.title, t.status])).toEqual([['one', 'ready'], ['three', 'todo']]);
    expect(fileHash(db)).toBe(before);
    expect(titles(db)).toEqual(['already here']);
    // A dry run reads: it does not make a board.
    const none = join(tempDir(), 'none.db');
    expect(kanban(['--db', none, 'import', path, '--dry-run']).code).toBe(4);
    expect(fileHash(none)).toBe('missing');
  });

  it('an empty file (or only comments) imports nothing', () => {
    const db = newBoard();
    expect(kanban(['--db', db, 'import', file('# nothing yet\n\n')])).toMatchObject({ code: 0, stdout: 'nothing to import\n' });
    expect(kanban(['--db', db, 'import', file(''), '--json'])).toMatchObject({ code: 0, stdout: '[]\n' });
  });
});

describe('kanban import of a bad file: exit 2, one line naming the line, the board as it was', () => {
  let db: string;
  let parent: string;
  beforeAll(() => {
    db = newBoard();
    parent = kanbanJson(db, ['create', 'open parent']).id;
  });

  const good = '{"title": "fine"}\n{"title": "also fine", "parents": [1]}\n';
  const cases: Array<[string, () => string, RegExp]> = [
    ['not JSON', () => `${good}{"title": "x",\n`, /^kanban: line 3: not JSON \(/],
    ['not an object', () => `${good}["x"]\n`, /^kanban: line 3: expected a JSON object, one task per line$/],
    ['an unknown field', () => `${good}{"titel": "x"}\n`, /^kanban: line 3: unknown field 'titel' \(fields: title, body, /],
    ['no title', () => `${good}{"body": "x"}\n`, /^kanban: line 3: title: a task needs a title$/],
    ['an empty title', () => `${good}{"title": "  "}\n`, /^kanban: line 3: a task needs a title$/],
    ['a field of the wrong type', () => `${good}{"title": "x", "triage": "yes"}\n`, /^kanban: line 3: triage: expected boolean, got string$/],
    ['a priority that is not whole', () => `${good}{"title": "x", "priority": 1.5}\n`, /^kanban: line 3: invalid priority '1.5': expected a whole number$/],
    ['a bad status', () => `${good}{"title": "x", "status": "done"}\n`, /^kanban: line 3: invalid status 'done': use one of todo, ready, blocked$/],
    ['a bad duration', () => `${good}{"title": "x", "max_runtime": "soon"}\n`, /^kanban: line 3: invalid max runtime 'soon'/],
    ['a malformed parent id', () => `${good}{"title": "x", "parents": ["t_xyz"]}\n`, /^kanban: line 3: invalid task id 't_xyz'/],
    ['a parent that does not exist', () => `${good}{"title": "x", "parents": ["t_00000000"]}\n`, /^kanban: line 3: no such task: t_00000000$/],
    ['a parent on a later line', () => `{"title": "x", "parents": [2]}\n${good}`, /^kanban: line 1: parents: 2 is not an earlier line of this file \(lines count from 1\)$/],
    ['a parent on a comment line', () => `${good}# c\n{"title": "x", "parents": [3]}\n`, /^kanban: line 4: parents: line 3 holds no task$/],
    ['ready under an unfinished parent', () => `${good}{"title": "x", "status": "ready", "parents": ["${parent}"]}\n`, /^kanban: line 3: cannot create x as ready: parent t_\w+ is not done \(ready\)$/],
    ['triage and a status', () => `${good}{"title": "x", "triage": true, "status": "todo"}\n`, /^kanban: line 3: choose either triage or a status, not both$/],
  ];
  it.each(cases)('%s', (_name, text, message) => {
    expectFailure(db, ['import', file(text())], 2, message);
    expectFailure(db, ['import', file(text()), '--dry-run'], 2, message);
  });

  it('a file that cannot be read', () => {
    expectFailure(db, ['import', join(tempDir(), 'missing.jsonl')], 2, /^kanban: cannot read .*missing\.jsonl: ENOENT/);
  });

  it('the lines before the bad one are not created either', () => {
    expect(titles(db)).toEqual(['open parent']);
  });
});
