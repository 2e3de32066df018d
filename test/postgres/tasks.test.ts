import pg from 'pg';
import { afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { InvalidInput, KanbanError, NotFound, Refused } from '../../src/errors.js';
import { SORT_KEYS, STATUSES, type Status } from '../../src/core/types.js';
import type { BoardStore } from '../../src/port/board.js';
import type { ListFilter } from '../../src/port/types.js';
import { manualClock, type ManualClock } from '../helpers/board.js';
import { openSqlite } from '../sqlite/factory.js';
import type { Harness } from '../conformance/suite.js';
import { openPg } from './factory.js';

/**
 * The PostgreSQL board's task reads and writes (src/pg/tasks.ts, events.ts, runs.ts, comments.ts,
 * context.ts, links.ts) against SQLite's: one script run on a board of each, with the same task ids
 * (newTaskId is made deterministic here) and the same clock; everything each call answers, refusals
 * included, must be equal. Then what only PostgreSQL needs checked: list order whatever the
 * database's collation, the JSON's bytes, runs as read back, and two links at once closing a cycle.
 */
let nextId = 0;
vi.mock('../../src/ids.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/ids.js')>();
  // Ids not in creation order, so that ties broken by id are broken differently from creation.
  return { ...original, newTaskId: () => `t_${((++nextId * 2654435761) >>> 0).toString(16).padStart(8, '0')}` };
});

const server = inject('postgresUrl');
const skip = server === null && process.env.CI !== 'true';

/** What a call answered, or how it was refused (class and words). */
async function outcome(call: () => Promise<unknown>): Promise<unknown> {
  try {
    return { ok: await call() };
  } catch (err) {
    if (err instanceof KanbanError) return { error: err.constructor.name, message: err.message };
    throw err;
  }
}

const TITLES = ['Zed', 'zed', 'é first', 'f', 'B', 'a', '_x', 'Éclair', 'éclair', 'zebra', '[bracket', 'a-b', 'ab', 'A'];

/** The script both boards run: everything it sees, in order. */
async function script(h: Harness, clock: ManualClock): Promise<Array<[string, unknown]>> {
  const board: BoardStore = h.board;
  const seen: Array<[string, unknown]> = [];
  const see = async (what: string, call: () => Promise<unknown>) => {
    seen.push([what, await outcome(call)]);
    clock.advance(1_000);
  };
  const ids: string[] = [];
  const create = async (input: Parameters<BoardStore['transitions']['create']>[0]) => {
    const result = await board.transitions.create(input);
    seen.push([`create ${input.title}`, result]);
    ids.push(result.task.id);
    clock.advance(1_000);
    return result.task.id;
  };

  for (const [i, title] of TITLES.entries()) {
    await create({ title, priority: i % 3, ...(i % 4 === 0 && { assignee: 'coder' }), ...(i === 2 && { maxRuntimeSeconds: 1.5, maxRetries: 3, body: 'a body\nwith lines' }) });
  }
  const [zed, , eFirst, f, bee, a, underscore] = ids as [string, string, string, string, string, string, string];
  await create({ title: 'triaged', triage: true });
  await create({ title: 'stuck', status: 'blocked' });
  await create({ title: 'keyed', idempotencyKey: 'k1', workspace: { kind: 'dir', path: '/tmp/w' } });
  await see('create keyed again', () => board.transitions.create({ title: 'keyed again', idempotencyKey: 'k1' }));
  await see('create a child', () => board.transitions.create({ title: 'child of Zed and f', parents: [zed, f, zed] }));
  await see('create ready under an unfinished parent', () => board.transitions.create({ title: 'too soon', parents: [zed], status: 'ready' }));
  await see('create under a missing parent', () => board.transitions.create({ title: 'orphan', parents: ['t_00000000'] }));
  await see('create many', () =>
    board.transitions.createMany([
      { input: { title: 'batch one' }, label: 'line 1' },
      { input: { title: 'batch two', parents: [a] }, parentItems: [0], label: 'line 2' },
      { input: { title: 'batch three' }, parentItems: [1, 0], label: 'line 3' },
    ]),
  );

  // Edits.
  await see('edit fields', () => board.transitions.edit(bee, { title: 'Bee', priority: 7, body: 'new', maxRetries: 2, maxRuntimeSeconds: 30.25 }));
  await see('edit assignee', () => board.transitions.edit(bee, { assignee: 'reviewer' }));
  await see('edit nothing', () => board.transitions.edit(bee, { title: 'Bee', priority: 7 }));
  await see('edit clear claim, reset failures', () => board.transitions.edit(f, { clearClaim: true, resetFailures: true }));
  await see('edit bad title', () => board.transitions.edit(f, { title: '  ' }));
  await see('edit missing', () => board.transitions.edit('t_00000000', { title: 'x' }));
  await h.force(underscore, { status: 'running', claim_lock: 'host:1:abc', consecutive_failures: 2 });
  await see('edit running: reassign', () => board.transitions.edit(underscore, { assignee: 'coder' }));
  await see('edit running: clear claim', () => board.transitions.edit(underscore, { clearClaim: true }));
  await see('edit running: title', () => board.transitions.edit(underscore, { title: 'still running', resetFailures: true }));
  await h.force(underscore, { status: 'ready', claim_lock: null });

  // Comments.
  await see('comment', () => board.transitions.comment(f, 'first words'));
  await see('comment again', () => board.transitions.comment(f, 'more words, ünïcode ✓'));
  await see('comment empty', () => board.transitions.comment(f, '  \n'));
  await see('comment missing', () => board.transitions.comment('t_00000000', 'hello'));
  for (let i = 0; i < 33; i++) await board.transitions.comment(a, `comment ${i}`);

  // Links.
  await see('link ready child to unfinished parent', () => board.transitions.link(bee, f));
  await see('link twice', () => board.transitions.link(bee, f));
  await see('link self', () => board.transitions.link(f, f));
  await see('link a cycle', () => board.transitions.link(f, bee));
  await see('link missing', () => board.transitions.link(f, 't_00000000'));
  await see('unlink not linked', () => board.transitions.unlink(a, f));
  await see('unlink', () => board.transitions.unlink(bee, f));
  await see('link again', () => board.transitions.link(bee, f));
  await see('complete parent', () => board.transitions.complete(bee, 'done it'));
  await see('complete Zed', () => board.transitions.complete(zed));
  await see('link a finished parent', () => board.transitions.link(zed, eFirst));
  await see('archive', () => board.transitions.archive(a));

  // Notes.
  await see('note', () => board.transitions.note(f, 'workspace_removed', { path: '/tmp/x', nested: { n: 1, list: [1, 'two', null] }, big: 1_700_000_000_000, ratio: 0.25 }));
  await see('note, no payload', () => board.transitions.note(f, 'processes_stopped'));

  // Reads, of every task (those created through `see` too).
  const every = (await board.tasks.list({ statuses: STATUSES, sort: 'created' })).map((t) => t.id);
  expect(every.length).toBeGreaterThan(ids.length);
  for (const id of [...every, 't_00000000']) {
    await see(`get ${id}`, () => board.tasks.get(id));
    await see(`show ${id}`, () => board.tasks.show(id));
    await see(`context ${id}`, () => board.tasks.context(id));
    await see(`events ${id}`, () => board.tasks.events(id));
    await see(`comments ${id}`, () => board.tasks.comments(id));
    await see(`runs ${id}`, () => board.tasks.runs(id));
    await see(`run ${id}`, () => board.tasks.run(id, 1));
  }
  const filters: ListFilter[] = [
    {},
    ...SORT_KEYS.map((sort) => ({ sort })),
    ...SORT_KEYS.map((sort) => ({ sort, statuses: ['ready', 'todo', 'archived', 'done'] as Status[], limit: 5 })),
    { assignee: 'coder' },
    { assignee: 'nobody' },
    { statuses: ['archived'] },
    { limit: 0 },
    { limit: 1.5 },
  ];
  for (const filter of filters) {
    await see(`list ${JSON.stringify(filter)}`, () => board.tasks.list(filter));
    await see(`listJson ${JSON.stringify(filter)}`, async () => JSON.parse((await board.tasks.listJson(filter)).toString('utf8')) as unknown);
    // The very bytes, but that SQLite writes a whole REAL with `.0` (90.0) and PostgreSQL does not.
    await see(`listJson bytes ${JSON.stringify(filter)}`, async () => (await board.tasks.listJson(filter)).toString('utf8').replace(/("max_runtime_seconds":-?\d+)\.0(?=[,}])/g, '$1'));
  }
  await see('count', () => board.tasks.count());
  await see('recent', () => board.tasks.recentEvents({}));
  await see('recent last 5', () => board.tasks.recentEvents({ last: 5 }));
  await see('recent since', () => board.tasks.recentEvents({ sinceMs: clock.now() - 40_000 }));
  await see('recent since, last 3', () => board.tasks.recentEvents({ sinceMs: clock.now() - 40_000, last: 3 }));
  await see('recent since the future', () => board.tasks.recentEvents({ sinceMs: clock.now() + 1 }));
  await see('recent since a time with a fraction', () => board.tasks.recentEvents({ sinceMs: clock.now() - 40_000.5 }));
  await see('recent last 0', () => board.tasks.recentEvents({ last: 0 }));
  await see('events after 10', () => board.tasks.eventsAfter(10, 7));
  await see('events after 0', () => board.tasks.eventsAfter(0, 1_000));

  // Last, as they use up ids on PostgreSQL (a sequence is not rolled back) and none on SQLite.
  await see('create many, dry run', () =>
    board.transitions.createMany(
      [
        { input: { title: 'dry one', parents: [f] }, label: 'line 1' },
        { input: { title: 'dry two' }, parentItems: [0], label: 'line 2' },
      ],
      { dryRun: true },
    ),
  );
  await see('create many, a bad item', () =>
    board.transitions.createMany([
      { input: { title: 'fine' }, label: 'line 1' },
      { input: { title: 'bad', assignee: 'no spaces allowed' }, label: 'line 2' },
    ]),
  );
  await see('create many, a later parent', () => board.transitions.createMany([{ input: { title: 'first' }, parentItems: [1], label: 'line 1' }]));
  await see('create many, dry run refused', () => board.transitions.createMany([{ input: { title: 'dry', parents: ['t_00000000'] }, label: 'line 9' }], { dryRun: true }));
  await see('create many, ready under unfinished', () => board.transitions.createMany([{ input: { title: 'r', parents: [f], status: 'ready' }, label: 'line 4' }]));
  await see('count after', () => board.tasks.count());
  await see('list after', () => board.tasks.list({ sort: 'id' }));
  return seen;
}

describe.skipIf(skip)(`PostgreSQL task reads and writes${skip ? ' (skipped: no PostgreSQL here)' : ''}`, () => {
  beforeAll(() => {
    expect(server, 'no PostgreSQL for the run: install postgresql (Debian) or set KANBAN_TEST_POSTGRES_URL').not.toBeNull();
  });
  const open: Harness[] = [];
  afterEach(async () => {
    while (open.length > 0) await open.pop()!.close();
  });
  const pgBoard = async (clock = manualClock()) => {
    const h = await openPg(server!, clock);
    open.push(h);
    return h;
  };

  it('answers a script of creates, edits, comments, links, notes and reads exactly as SQLite does', async () => {
    const sqliteClock = manualClock();
    const sqlite = await openSqlite(sqliteClock);
    open.push(sqlite);
    nextId = 0;
    const expected = await script(sqlite, sqliteClock);
    const pgClock = manualClock();
    const postgres = await pgBoard(pgClock);
    nextId = 0;
    const actual = await script(postgres, pgClock);
    expect(actual.map(([what]) => what)).toEqual(expected.map(([what]) => what));
    for (const [i, [what, answer]] of actual.entries()) expect(answer, what).toEqual(expected[i]![1]);
    // Sanity: the script met the refusals it meant to.
    const refusals = expected.filter(([, answer]) => (answer as { error?: string }).error).map(([what, answer]) => `${what}: ${(answer as { error: string }).error}`);
    expect(refusals).toEqual(expect.arrayContaining(['link a cycle: Refused', 'comment missing: NotFound', 'create many, a bad item: InvalidInput', 'edit running: reassign: Refused']));
  });

  it('lists titles in SQLite order whatever the database\'s collation (on a server whose default is ICU, the collation alone would differ)', async () => {
    const h = await pgBoard();
    for (const title of TITLES) await h.board.transitions.create({ title });
    const client = new pg.Client({ connectionString: h.url });
    await client.connect();
    try {
      // SQLite's NOCASE: ASCII letters folded, then bytes; ties by id.
      const fold = (s: string) => Buffer.from(s.replace(/[A-Z]/g, (c) => c.toLowerCase()));
      const tasks = await h.board.tasks.list({ sort: 'title' });
      const byNocase = [...tasks].sort((x, y) => Buffer.compare(fold(x.title), fold(y.title)) || Buffer.compare(Buffer.from(x.id), Buffer.from(y.id)));
      expect(tasks.map((t) => t.title)).toEqual(byNocase.map((t) => t.title));
      // The database's own collation would put them otherwise (so the test means something), unless it is C.
      const collated = (await client.query<{ title: string }>('SELECT title FROM tasks ORDER BY lower(title), id')).rows.map((r) => r.title);
      const { rows } = await client.query<{ c: string; p: string }>("SELECT datcollate AS c, datlocprovider AS p FROM pg_database WHERE datname = current_database()");
      if (rows[0]!.p === 'i') expect(collated).not.toEqual(tasks.map((t) => t.title));
      console.log(`list order checked on a database collated ${rows[0]!.p === 'i' ? 'by ICU' : rows[0]!.c}`);
    } finally {
      await client.end();
    }
  });

  it('listJson: the bytes of an array, one compact task a line, times as numbers; [] when empty', async () => {
    const h = await pgBoard();
    expect((await h.board.tasks.listJson()).toString('utf8')).toBe('[]');
    const { task: parent } = await h.board.transitions.create({ title: 'he said "hi"\n\tand left ✓', maxRuntimeSeconds: 0.1 });
    await h.board.transitions.create({ title: 'child', parents: [parent.id], maxRuntimeSeconds: 90 });
    const text = (await h.board.tasks.listJson({ sort: 'created' })).toString('utf8');
    const lines = text.split('\n');
    expect(lines[0]).toBe('[');
    expect(lines.at(-1)).toBe(']');
    expect(lines).toHaveLength(4);
    expect(lines[1]!.endsWith(',')).toBe(true);
    expect(lines[1]).toMatch(/^\{"id":"t_[0-9a-f]{8}","title":"he said \\"hi\\"\\n\\tand left ✓","body":"",/);
    expect(lines[1]).toContain(`"created_at":${parent.created_at},`);
    expect(lines[1]).toMatch(/"parents":\[\],"children":\["t_[0-9a-f]{8}"\]\},$/);
    expect(lines[2]).toMatch(/"max_runtime_seconds":90,/);
    expect(JSON.parse(text)).toEqual(await h.board.tasks.list({ sort: 'created' }));
  });

  it('runs read back with numbers where SQLite has numbers, in id order, and only the named task\'s', async () => {
    const h = await pgBoard();
    const { task } = await h.board.transitions.create({ title: 'ran' });
    const { task: other } = await h.board.transitions.create({ title: 'other' });
    const client = new pg.Client({ connectionString: h.url });
    await client.connect();
    try {
      await client.query(
        `INSERT INTO task_runs (task_id, profile, status, claim_lock, worker_pid, started_at, ended_at, outcome, exit_code, lease_ms)
         VALUES ($1, 'coder', 'ended', 'h:1:a', 42, 1000, 2000, 'crashed', 1, 60000), ($1, NULL, 'running', 'h:1:b', NULL, 3000, NULL, NULL, NULL, 60000), ($2, NULL, 'running', 'h:1:c', NULL, 3000, NULL, NULL, NULL, 60000)`,
        [task.id, other.id],
      );
    } finally {
      await client.end();
    }
    const runs = await h.board.tasks.runs(task.id);
    expect(runs).toEqual([
      { id: 1, task_id: task.id, profile: 'coder', status: 'ended', claim_lock: 'h:1:a', worker_pid: 42, started_at: 1000, ended_at: 2000, last_heartbeat_at: null, outcome: 'crashed', summary: null, error: null, exit_code: 1, supervisor_pid: null, signal: null, lease_ms: 60000 },
      expect.objectContaining({ id: 2, status: 'running', ended_at: null, started_at: 3000 }),
    ]);
    expect(await h.board.tasks.run(task.id, 2)).toEqual(runs[1]);
    expect(await h.board.tasks.run(task.id, 3)).toBeUndefined();
    expect(await h.board.tasks.run(other.id, 3)).toMatchObject({ id: 3, task_id: other.id });
    expect((await h.board.tasks.show(task.id)).runs).toEqual(runs);
  });

  it('two links from two connections that would close a cycle between them: one is made, the other refused', async () => {
    const h = await pgBoard();
    const other = await h.second();
    for (let i = 0; i < 10; i++) {
      const { task: x } = await h.board.transitions.create({ title: `x ${i}` });
      const { task: y } = await h.board.transitions.create({ title: `y ${i}` });
      const results = await Promise.allSettled([h.board.transitions.link(x.id, y.id), other.transitions.link(y.id, x.id)]);
      const refused = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as Error);
      expect(refused, `round ${i}`).toHaveLength(1);
      expect(refused[0]).toBeInstanceOf(Refused);
      expect(refused[0]!.message).toMatch(/cycle/);
      const links = [...(await h.board.tasks.parents(x.id)), ...(await h.board.tasks.parents(y.id))];
      expect(links).toHaveLength(1);
    }
  });

  it('a dry run writes nothing, whether it went through or an item was refused', async () => {
    const h = await pgBoard();
    const { task } = await h.board.transitions.create({ title: 'parent' });
    const before = await h.snapshot();
    const dry = await h.board.transitions.createMany([{ input: { title: 'a', parents: [task.id] }, label: 'line 1' }], { dryRun: true });
    expect(dry[0]!.task).toMatchObject({ title: 'a', status: 'todo', parents: [task.id] });
    expect(await h.snapshot()).toEqual(before);
    await expect(h.board.transitions.createMany([{ input: { title: 'b' }, label: 'line 1' }, { input: { title: 'c', parents: ['t_00000000'] }, label: 'line 2' }], { dryRun: true })).rejects.toThrow(
      new InvalidInput('line 2: no such task: t_00000000'),
    );
    expect(await h.snapshot()).toEqual(before);
    await expect(h.board.tasks.get('t_00000000')).rejects.toBeInstanceOf(NotFound);
  });
});
