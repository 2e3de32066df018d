import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.js';
import { blockTask } from '../../src/store/lifecycle.js';
import { createTask } from '../../src/store/tasks.js';
import { expectFailure, kanban, kanbanJson, KANBAN_BIN } from '../helpers/cli.js';
import { manualClock, tempDir } from '../helpers/board.js';
import { cleanEnv, exited } from '../helpers/processes.js';
import { waitFor } from '../helpers/workers.js';

/** `kanban events [--follow] [--json] [--since T] [--limit N]`: the board's events, oldest first. */

const WHEN = String.raw`\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \((?:in )?\d+[smhd](?: ago)?\)`;

function newBoard(): string {
  const db = join(tempDir(), 'board.db');
  expect(kanban(['--db', db, 'init']).code).toBe(0);
  return db;
}

/** The events as JSON lines. */
function eventsJson(db: string, args: string[] = []): Array<Record<string, any>> {
  const result = kanban(['--db', db, 'events', '--json', ...args]);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

describe('kanban events', () => {
  it('prints each event on one line in words: when, task, kind, run, what happened; control sequences stripped', () => {
    const db = newBoard();
    const task = kanbanJson(db, ['create', 'first', '--priority', '2']);
    kanban(['--db', db, 'edit', task.id, '--title', 'renamed']);
    kanban(['--db', db, 'block', task.id, 'needs \u001b[31mthe\u001b[0m key\u0007']);
    const out = kanban(['--db', db, 'events']);
    expect(out.code, out.stderr).toBe(0);
    const lines = out.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(new RegExp(`^${WHEN}  ${task.id}  created  status ready, priority 2, parents none$`));
    expect(lines[1]).toMatch(new RegExp(`^${WHEN}  ${task.id}  edited  changes \\(title first → renamed\\)$`));
    expect(lines[2]).toMatch(new RegExp(`^${WHEN}  ${task.id}  blocked  from ready, reason "needs the key", source user, sticky$`));
    expect(out.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(out.stdout).not.toContain('{');
    // show uses the same words
    expect(kanban(['--db', db, 'show', task.id]).stdout).toMatch(new RegExp(`^  ${WHEN}  blocked  from ready, reason "needs the key", source user, sticky$`, 'm'));
  });

  it('--json prints one object per line: id task_id run_id kind payload created_at, epoch ms, oldest first', () => {
    const db = newBoard();
    const task = kanbanJson(db, ['create', 'x']);
    kanban(['--db', db, 'comment', task.id, 'hello']);
    const events = eventsJson(db);
    expect(events.map((e) => Object.keys(e))).toEqual([['id', 'task_id', 'run_id', 'kind', 'payload', 'created_at'], ['id', 'task_id', 'run_id', 'kind', 'payload', 'created_at']]);
    expect(events).toMatchObject([
      { task_id: task.id, run_id: null, kind: 'created', payload: { status: 'ready', assignee: null, priority: 0, parents: [] } },
      { task_id: task.id, run_id: null, kind: 'commented', payload: { author: 'user' } },
    ]);
    expect(events[0]!.id).toBeLessThan(events[1]!.id);
    expect(events[0]!.created_at).toBeGreaterThan(Date.now() - 60_000);
  });

  it('by default the last 50; --limit N the last N', () => {
    const db = newBoard();
    const lines = Array.from({ length: 60 }, (_, i) => JSON.stringify({ title: `t${i}` })).join('\n');
    const all = kanbanJson<Array<{ id: string }>>(db, ['import', writeTemp(lines)]).map((t) => t.id); // in the order made
    const titlesOf = (events: Array<Record<string, any>>) => events.map((e) => e.task_id);
    expect(titlesOf(eventsJson(db))).toEqual(all.slice(10));
    expect(titlesOf(eventsJson(db, ['-n', '3']))).toEqual(all.slice(57));
    expect(kanban(['--db', db, 'events', '--help']).stdout).toMatch(/default: the last 50/);
  });

  it('says so when there are none, and never creates a board', () => {
    expect(kanban(['--db', newBoard(), 'events'])).toMatchObject({ code: 0, stdout: 'no events\n' });
    const none = join(tempDir(), 'none.db');
    const result = kanban(['--db', none, 'events']);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/^kanban: no board at .*: `kanban init` creates one/);
    expect(existsSync(none)).toBe(false);
  });
});

describe('kanban events --since', () => {
  let db: string;
  const ids: Record<string, string> = {};
  beforeAll(() => {
    db = join(tempDir(), 'board.db');
    const clock = manualClock(Date.now() - 3 * 3600_000);
    const store = openStore(db, { clock });
    ids.old = createTask(store, { title: 'three hours ago' }).task.id;
    clock.set(Date.now() - 30 * 60_000);
    ids.recent = createTask(store, { title: 'half an hour ago' }).task.id;
    blockTask(store, ids.recent, 'why not');
    store.close();
  });

  const kinds = (args: string[]) => eventsJson(db, args).map((e) => `${e.task_id === ids.old ? 'old' : 'recent'} ${e.kind}`);

  it('takes a duration (that long ago) or an ISO time, and then prints all since', () => {
    expect(kinds(['--since', '1h'])).toEqual(['recent created', 'recent blocked']);
    expect(kinds(['--since', '4 hours'])).toEqual(['old created', 'recent created', 'recent blocked']);
    expect(kinds(['--since', '2h', '-n', '1'])).toEqual(['recent blocked']);
    const iso = new Date(Date.now() - 3600_000).toISOString();
    expect(kinds(['--since', iso])).toEqual(['recent created', 'recent blocked']);
    expect(kanban(['--db', db, 'events', '--since', '10m']).stdout).toBe('no events\n');
  });

  it('refuses what is neither, and a limit that is not a whole number ≥ 1 (exit 2, board unchanged)', () => {
    expectFailure(db, ['events', '--since', 'yesterday'], 2, /^kanban: invalid --since 'yesterday': use a duration \(10m, 2h, 2 hours\) or an ISO 8601 time/);
    expectFailure(db, ['events', '--limit', '0'], 2, /^kanban: invalid limit '0'/);
    expectFailure(db, ['events', '--follow', '--limit', 'x'], 2, /^kanban: invalid limit 'x'/);
  });
});

describe('kanban events --follow', () => {
  /** Starts a follower; `out()` is what it has printed so far. */
  function follower(db: string, args: string[]): { child: ChildProcess; out: () => string; err: () => string } {
    const child = spawn(process.execPath, [KANBAN_BIN, '--db', db, 'events', '--follow', ...args], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (chunk) => (out += chunk));
    child.stderr!.on('data', (chunk) => (err += chunk));
    return { child, out: () => out, err: () => err };
  }

  it('prints what is there, then each new event once as it happens, until SIGINT (exit 0)', async () => {
    const db = newBoard();
    const first = kanbanJson(db, ['create', 'before']);
    const f = follower(db, ['--json']);
    await waitFor('the backlog', () => f.out().includes(first.id), 30_000);
    const second = kanbanJson(db, ['create', 'after']);
    kanban(['--db', db, 'block', second.id, 'later']);
    await waitFor('the new events', () => f.out().split('\n').filter(Boolean).length >= 3, 30_000);
    f.child.kill('SIGINT');
    expect(await exited(f.child)).toBe(0);
    const events = f.out().split('\n').filter(Boolean).map((line) => JSON.parse(line));
    expect(events.map((e) => [e.task_id, e.kind])).toEqual([[first.id, 'created'], [second.id, 'created'], [second.id, 'blocked']]);
    expect(f.err()).toBe('');
  });

  it('SIGTERM while the backlog waits on a reader that has stopped reading: exit 0 once it reads again, the whole backlog printed', async () => {
    // Far more backlog than the socket and the reader's buffer hold: the follower is still printing it
    // when the signal comes, whatever the machine's speed. It must already be listening for it.
    const db = newBoard();
    const store = openStore(db);
    const TASKS = 8000;
    store.writeTxn(() => {
      for (let i = 0; i < TASKS; i++) createTask(store, { title: `backlog task ${i} with a title long enough to fill a pipe quickly` });
    });
    store.close();
    const child = spawn(process.execPath, [KANBAN_BIN, '--db', db, 'events', '--follow', '--json', '--limit', String(TASKS)], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const ended = exited(child);
    const closed = new Promise((resolve) => child.stdout!.once('close', resolve));
    let err = '';
    child.stderr!.on('data', (chunk) => (err += chunk));
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve) => child.stdout!.once('data', (chunk: Buffer) => (chunks.push(chunk), child.stdout!.pause(), resolve())));
    child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    child.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stdout!.resume();
    expect(await ended, err).toBe(0);
    await closed;
    const lines = Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean);
    expect(lines).toHaveLength(TASKS);
    expect(err).toBe('');
  }, 60_000);

  it('human lines too, and SIGTERM ends it the same way', async () => {
    const db = newBoard();
    const f = follower(db, []);
    // Whether the follower has started yet or not, the event is printed once: in its backlog, or as it follows.
    const task = kanbanJson(db, ['create', 'watched']);
    await waitFor('the event', () => f.out().includes(task.id), 30_000);
    f.child.kill('SIGTERM');
    expect(await exited(f.child)).toBe(0);
    expect(f.out()).toMatch(new RegExp(`^${WHEN}  ${task.id}  created  status ready, priority 0, parents none\\n$`));
  });
});

function writeTemp(text: string): string {
  const path = join(tempDir(), 'lines.jsonl');
  writeFileSync(path, text);
  return path;
}
