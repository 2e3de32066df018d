import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { COLUMN_SORTS, STATUSES, type ColumnSort, type Status } from '../../src/core/types.js';
import type { RunIdentity } from '../../src/core/run.js';
import type { BoardStore } from '../../src/port/board.js';
import type { ClaimCandidate, ProcessProbe, Take } from '../../src/port/types.js';
import { PgBoard } from '../../src/pg/board.js';
import { thisHost } from '../../src/host.js';
import { manualClock, type ManualClock } from '../helpers/board.js';
import { Refused } from '../../src/errors.js';
import type { Harness } from '../conformance/suite.js';
import { openSqlite } from '../sqlite/factory.js';
import { withClient, withDatabase } from '../helpers/postgres.js';
import { newPgDatabase, openPg } from './factory.js';

/**
 * The PostgreSQL adapter's reads (windows, stats, diagnostics, the dispatcher's queries) and the
 * dispatcher's transitions and event cursor, against SQLite's: the same board on both, every answer
 * compared. Twice over: the same port calls made on a board of each (task ids are random: answers
 * are compared with each id put as its task's title); and a SQLite board's rows copied as they are
 * into a PostgreSQL database (the same ids), which compares the queries alone, whatever the other
 * calls do. Then the cursor: two connections taking at once, and events committed out of id order.
 */
const server = inject('postgresUrl');
const skip = server === null && process.env.CI !== 'true';
const serverUrl = server ?? 'postgresql://unavailable/';

const FAILURES = { limit: 2, limitSource: 'default' };
const LEASE_MS = 60_000;
const WORKER_PID = 4242;
const SUPERVISOR_PID = 4343;
/** This host's (its claims'), and the supervisor this file pretends is alive. */
const probe: ProcessProbe = { host: thisHost().id, isRunProcess: (pid) => pid === SUPERVISOR_PID };

/** Titles that sort differently by case, by bytes and by locale, with LIKE's own characters. */
const TITLES = ['alpha', 'Beta', 'beta two', 'Ärger', 'zeta', '_under', '100% done', 'a_b', 'ab', 'Émile', 'gamma', 'Delta', 'epsilon', 'Zed', 'ärger'];

/**
 * The same board, made through the port: every status, a child waiting on its parent and one whose
 * parent was finished behind the dispatcher's back, runs rate limited, crashed to the breaker, failed
 * to start (a cooldown), ended with a worker, a ghost, comments, ties in time and priority. Returns
 * each task's id by title.
 */
async function scenario(h: Harness, clock: ManualClock, options: { ties: boolean }): Promise<Map<string, string>> {
  const b = options.ties ? h.board : ticking(h.board, clock);
  const ids = new Map<string, string>();
  const make = async (title: string, input: Record<string, unknown> = {}) => {
    const { task } = await b.transitions.create({ title, ...input });
    ids.set(title, task.id);
    return task.id;
  };
  const claim = async (id: string, profile: string | null = null): Promise<RunIdentity> => {
    const result = await b.lease.claim(id, { profile, leaseMs: LEASE_MS });
    if (!result.claimed) throw new Error(`could not claim ${id}: ${result.reason}`);
    return result.identity;
  };
  const id = (title: string) => ids.get(title)!;
  for (const [i, title] of TITLES.entries()) {
    await make(title, { priority: i % 3, assignee: ['coder', 'Reviewer', null, 'coder'][i % 4] });
    if (i % 3 !== 1) clock.advance(1_000); // some created at the same time
  }
  await make('parent');
  await make('child', { parents: [id('parent')] });
  await make('parent two');
  await make('child two', { parents: [id('parent two')], priority: 2 });
  await h.force(id('parent two'), { status: 'done' });
  await make('triage me', { triage: true });
  await make('born blocked', { status: 'blocked' });
  clock.advance(1_000);

  await b.transitions.block(id('zeta'), 'waiting on a person');
  await b.transitions.comment(id('zeta'), 'any news?');
  clock.advance(500);
  await b.transitions.comment(id('zeta'), 'still waiting');
  await b.transitions.schedule(id('gamma'), clock.now() + 1_000, 'soon');
  await b.transitions.schedule(id('Delta'), clock.now() + 3_600_000);

  // Running: one with a worker and a supervisor on this host, one without.
  const alpha = await claim(id('alpha'), 'coder');
  await b.lease.attachSupervisor(alpha, SUPERVISOR_PID);
  await b.lease.recordSpawn(alpha, { workerPid: WORKER_PID, argv: ['agent'], workspace: '/tmp/w' });
  await claim(id('Beta'), 'Reviewer');
  clock.advance(2_000);

  // Rate limited (a hold), a cooldown from a start that failed (a hold), a run that ended with a worker.
  const limited = await claim(id('beta two'), 'coder');
  await b.lease.recordSpawn(limited, { workerPid: WORKER_PID + 1, argv: ['agent'], workspace: '/tmp/w2' });
  clock.advance(3_000);
  await b.lease.recordExit(limited, { exitCode: 75, signal: null, failures: FAILURES, rateLimitCooldownMs: 120_000 });
  // Rate limited twice more: one run again before its cooldown ended, one whose cooldown is over.
  const again = await claim(id('epsilon'));
  clock.advance(500);
  await b.lease.recordExit(again, { exitCode: 75, signal: null, failures: FAILURES, rateLimitCooldownMs: 5_000 });
  clock.advance(2_000);
  const rerun = await claim(id('epsilon'));
  clock.advance(1_000);
  await b.lease.complete(rerun, 'made it');
  const over = await claim(id('Zed'));
  clock.advance(500);
  await b.lease.recordExit(over, { exitCode: 75, signal: null, failures: FAILURES, rateLimitCooldownMs: 1_500 });
  clock.advance(2_000);
  const failed = await claim(id('_under'));
  await b.lease.recordFailure(failed, 'spawn_failed', 'no such agent', FAILURES, { retryInMs: 60_000 });
  clock.advance(1_000);

  // The breaker: two crashes block it (gave_up), recoverable once its own limit is raised.
  for (let i = 0; i < 2; i++) {
    const crash = await claim(id('Ärger'));
    await b.lease.recordSpawn(crash, { workerPid: WORKER_PID + 2, argv: ['agent'], workspace: '/tmp/w3' });
    clock.advance(1_500);
    await b.lease.recordExit(crash, { exitCode: 1, signal: null, failures: FAILURES });
  }
  const review = await claim(id('100% done'), 'coder');
  clock.advance(700);
  await b.lease.review(review, 'have a look');
  await b.transitions.complete(id('a_b'), 'by hand');
  clock.advance(1_000);
  await b.transitions.complete(id('ab'));
  await b.transitions.archive(id('ab'));
  // A ghost: running, its claim gone.
  await claim(id('Émile'));
  await h.force(id('Émile'), { claim_lock: null });
  clock.advance(1_000);
  return ids;
}

/**
 * The board, its clock moved on a millisecond after each call: no two tasks share a time, so no order
 * falls back on the ids (random, so different on each board).
 */
function ticking(board: BoardStore, clock: ManualClock): BoardStore {
  const wrap = <T extends object>(capability: T): T =>
    new Proxy(capability, {
      get(target, key) {
        const value = Reflect.get(target, key) as unknown;
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          const result: unknown = await (value as (...a: unknown[]) => unknown).apply(target, args);
          clock.advance(1);
          return result;
        };
      },
    });
  return new Proxy(board, { get: (target, key) => {
    const value = Reflect.get(target, key) as unknown;
    return value !== null && typeof value === 'object' && key !== 'ref' ? wrap(value) : value;
  } });
}

/** A value with every task id put as `#title`, every claim lock as `<lock>`, Maps as objects. */
function normalized(value: unknown, titles: Map<string, string>): unknown {
  if (typeof value === 'string') {
    if (/^.+:\d+:[0-9a-f]{12}$/.test(value)) return '<lock>';
    return value.replace(/t_[0-9a-f]{8}/g, (id) => (titles.has(id) ? `#${titles.get(id)}` : id));
  }
  if (value instanceof Map) return normalized(Object.fromEntries(value), titles);
  if (Array.isArray(value)) return value.map((v) => normalized(v, titles));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [normalized(k, titles) as string, normalized(v, titles)]));
  return value;
}

/** Filters, on boards whose tasks have the same ids; and those that match no task by a random id (all or none). */
/** Of 3 characters and more, SQLite finds the matches through its trigram index first (store/board.ts): the same answers. */
const INDEXED_FILTERS = ['ETA', 'ÄRG', 'rge', '100%', 'der', 'viewer', 'mile'];
const FILTERS = [undefined, 'a', 'E', '_', '%', 'ä', 'co', 'zzz', 'Be', 't_', ...INDEXED_FILTERS];
const ID_FREE_FILTERS = [undefined, 'al', 'ZE', '_', '%', 'ä', 'co', 'zzz', 'ET', 'er', 'TW', 't_', ...INDEXED_FILTERS];
const SORTS: Array<ColumnSort | undefined> = [undefined, ...COLUMN_SORTS];

/** Every read this file compares, each answer under a name: `ids` are the board's tasks (titles by id are applied by the caller). */
async function reads(board: BoardStore, now: number, taskIds: readonly string[], filters = FILTERS): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const filter of filters) {
    out[`counts ${filter}`] = await board.windows.counts(filter);
    for (const status of STATUSES) {
      for (const sort of SORTS) {
        const window = await board.windows.window(status, 0, 100, filter, sort);
        out[`window ${status} ${filter} ${sort}`] = window;
        out[`window ${status} ${filter} ${sort} page`] = await board.windows.window(status, 1, 2, filter, sort);
        // Where each card stands (its index, unless the order went wrong), and a task not in the column.
        out[`positions ${status} ${filter} ${sort}`] = await Promise.all(window.map((card) => board.windows.position(status, card.id, filter, sort)));
        const outsider = taskIds.find((id) => !window.some((card) => card.id === id));
        out[`position outside ${status} ${filter} ${sort}`] = outsider === undefined ? undefined : await board.windows.position(status, outsider, filter, sort);
      }
    }
    out[`view ${filter}`] = await board.windows.view({
      statuses: STATUSES,
      cursors: { ready: { id: taskIds[0] ?? null, index: 3 }, blocked: { id: null, index: 9 } },
      filter: filter ?? '',
      perColumn: 2,
      sorts: { ready: 'title', done: 'oldest' },
    });
  }
  out['window offset past the end'] = await board.windows.window('ready', 50, 10);
  out['window negative offset'] = await board.windows.window('ready', -3, 2);
  for (const [since, slowest] of [[0, 5], [now - 5_000, 2], [now + 1, 0]] as const) out[`stats ${since} ${slowest}`] = await board.facts.stats({ now, since, slowest });
  out['stats later'] = await board.facts.stats({ now: now + 200_000, since: now - 10_000, slowest: 3 });
  // Tasks by title (each its own): SQLite's query states no order (its plan's, ties in insertion order).
  const diagnostics = async (since: number) => {
    const facts = await board.facts.diagnostics(probe, since);
    return { ...facts, tasks: facts.tasks.sort((a, b) => (a.title < b.title ? -1 : 1)) };
  };
  out.diagnostics = await diagnostics(now - 4_000);
  out['diagnostics, all events'] = await diagnostics(0);
  out.runningTasks = await board.dispatch.runningTasks();
  out.runningCounts = await board.dispatch.runningCounts();
  out.openRuns = await board.dispatch.openRuns();
  out.endedRunsWithWorkers = await board.dispatch.endedRunsWithWorkers(0, now + 1);
  out['endedRunsWithWorkers recent'] = await board.dispatch.endedRunsWithWorkers(now - 6_000, now - 1_000);
  out.dueSchedules = await board.dispatch.dueSchedules(now);
  out['dueSchedules later'] = await board.dispatch.dueSchedules(now + 3_600_000);
  out.promotableTodos = await board.dispatch.promotableTodos();
  out.recoverableBlocked = await board.dispatch.recoverableBlocked(2);
  out['recoverableBlocked raised'] = await board.dispatch.recoverableBlocked(3);
  out.readyQueue = await board.dispatch.readyQueue(100);
  out['readyQueue 2'] = await board.dispatch.readyQueue(2);
  for (const id of taskIds) {
    const run = await board.dispatch.lastRun(id);
    out[`lastRun ${id}`] = run;
    if (run) out[`cooldownOf ${id}`] = await board.dispatch.cooldownOf(run.id);
  }
  return out;
}

/** What each of the dispatcher's transitions does on the board, refusals included (their class and words). */
async function transitions(board: BoardStore, ids: Map<string, string>, now: number, filters = FILTERS): Promise<Record<string, unknown>> {
  const id = (title: string) => ids.get(title)!;
  const outcome = (p: Promise<unknown>) => p.then((value) => ({ value }), (err: unknown) => ({ error: (err as Error).constructor.name, message: (err as Error).message }));
  const out: Record<string, unknown> = {};
  const limited = await board.dispatch.lastRun(id('beta two'));
  out.guarded = await outcome(board.dispatch.noteRespawnGuarded(id('beta two'), limited!.id, { reason: 'rate_limited' }));
  out['guarded again'] = await outcome(board.dispatch.noteRespawnGuarded(id('beta two'), limited!.id, { reason: 'rate_limited' }));
  out['promote waiting'] = await outcome(board.dispatch.promoteReady(id('child')));
  out['promote ready one'] = await outcome(board.dispatch.promoteReady(id('child two')));
  out['promote again'] = await outcome(board.dispatch.promoteReady(id('child two')));
  out['release not due'] = await outcome(board.dispatch.releaseSchedule(id('Delta')));
  out['release due'] = await outcome(board.dispatch.releaseSchedule(id('gamma')));
  out['recover at the limit'] = await outcome(board.dispatch.recoverBlocked(id('Ärger'), 2));
  out['recover sticky'] = await outcome(board.dispatch.recoverBlocked(id('zeta'), 9));
  out['recover raised'] = await outcome(board.dispatch.recoverBlocked(id('Ärger'), 3));
  out['reclaim a held one'] = await outcome(board.dispatch.reclaimGhost(id('alpha')));
  out['reclaim the ghost'] = await outcome(board.dispatch.reclaimGhost(id('Émile')));
  const claimFirst = (candidates: ClaimCandidate[]) => outcome(board.lease.claimFirst(candidates, { leaseMs: LEASE_MS }));
  const coder = (title: string, more: Partial<ClaimCandidate> = {}) => ({ taskId: ids.get(title) ?? title, profile: 'coder', ...more });
  out['claim first: at the board cap'] = await claimFirst([coder('gamma', { assign: true, caps: { board: 1 } })]);
  out['claim first: one done, one assigned meanwhile, one missing passed over; the next claimed and assigned'] = await claimFirst([
    coder('epsilon'),
    coder('Zed', { assign: true }),
    coder('t_00000000'),
    coder('ärger', { assign: true, caps: { board: 100, profile: 100 } }),
  ]);
  out['claim first: every one passed over'] = await claimFirst([coder('epsilon'), coder('ärger', { assign: true })]);
  out['claim first: none to choose from'] = await claimFirst([]);
  for (const [title, taskId] of ids) out[`events ${title}`] = await board.tasks.events(taskId);
  out.after = await reads(board, now, [...ids.values()], filters);
  return out;
}

/** Takes from cursor `name` until nothing is left, `limit` at a time: what each take gave (event ids, kinds, tasks). */
async function drain(board: BoardStore, name: string, kinds: readonly string[], limit: number): Promise<unknown[]> {
  const takes: unknown[] = [];
  for (;;) {
    const take = await board.dispatch.takeEvents(name, kinds, limit);
    takes.push(take);
    if (take.events.length === 0 && !take.started) return takes;
  }
}

function expectSame(sqlite: Record<string, unknown>, postgres: Record<string, unknown>): void {
  expect(Object.keys(postgres)).toEqual(Object.keys(sqlite));
  for (const key of Object.keys(sqlite)) expect(postgres[key], key).toEqual(sqlite[key]);
}

describe.skipIf(skip)(`PostgreSQL's queries against SQLite's${skip ? ' (skipped: no PostgreSQL here)' : ''}`, () => {
  beforeAll(() => {
    expect(server, 'no PostgreSQL for the run: install postgresql (Debian) or set KANBAN_TEST_POSTGRES_URL').not.toBeNull();
  });
  const open: Harness[] = [];
  afterEach(async () => {
    while (open.length > 0) await open.pop()!.close();
  });

  it('the same port calls on each: every window, fact, query and dispatcher transition answers the same', async () => {
    const clock = manualClock();
    const sqlite = await openSqlite(clock);
    open.push(sqlite);
    const postgres = await openPg(serverUrl, clock);
    open.push(postgres);
    const start = clock.now();
    const sqliteIds = await scenario(sqlite, clock, { ties: false });
    clock.set(start);
    const pgIds = await scenario(postgres, clock, { ties: false });
    const now = clock.now();
    const titles = (ids: Map<string, string>) => new Map([...ids].map(([title, id]) => [id, title]));
    // Lists in id order are compared as sets here (the ids differ); the copy below compares their order.
    const ID_ORDERED = ['runningTasks', 'recoverableBlocked', 'recoverableBlocked raised'];
    const byTitle = (ids: Map<string, string>, out: Record<string, unknown>): Record<string, unknown> => {
      const result = normalized(out, titles(ids)) as Record<string, unknown>;
      for (const key of ID_ORDERED) (result[key] as Array<{ title: string }> | undefined)?.sort((a, b) => (a.title < b.title ? -1 : 1));
      if (result.after) result.after = byTitle(new Map(), result.after as Record<string, unknown>);
      return result;
    };

    for (const board of [sqlite.board, postgres.board]) expect((await board.dispatch.takeEvents('cursor', ['unblocked'], 10)).started).toBe(true);
    const [sqliteReads, pgReads] = [await reads(sqlite.board, now, [...sqliteIds.values()], ID_FREE_FILTERS), await reads(postgres.board, now, [...pgIds.values()], ID_FREE_FILTERS)];
    expectSame(byTitle(sqliteIds, sqliteReads), byTitle(pgIds, pgReads));
    expectSame(byTitle(sqliteIds, await transitions(sqlite.board, sqliteIds, now, ID_FREE_FILTERS)), byTitle(pgIds, await transitions(postgres.board, pgIds, now, ID_FREE_FILTERS)));
    expect(normalized(await drain(postgres.board, 'cursor', ['unblocked', 'promoted', 'assigned'], 2), titles(pgIds))).toEqual(
      normalized(await drain(sqlite.board, 'cursor', ['unblocked', 'promoted', 'assigned'], 2), titles(sqliteIds)),
    );
  }, 120_000);

  /**
   * A database collating as the server does (the test server's: C), or one whose text collates as
   * people read it (ICU's en-US): the order of titles, statuses and ids must not follow it.
   */
  const COLLATIONS: Array<[string, string]> = [
    ['the server default collation', ''],
    ["ICU's en-US collation", "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'"],
  ];
  for (const [collation, options] of COLLATIONS) {
    it(`a SQLite board's rows copied into PostgreSQL as they are (${collation}): every read answers the same, to the id`, async (ctx) => {
      const clock = manualClock();
      const sqlite = await openSqlite(clock);
      open.push(sqlite);
      const ids = await scenario(sqlite, clock, { ties: true });
      await sqlite.board.dispatch.takeEvents('copied', ['claimed'], 1); // a cursor, copied with the rest
      const database = options ? await newDatabase(options) : await newPgDatabase(serverUrl, 'copy');
      if (!database) return ctx.skip();
      const board = await PgBoard.open(database.url, { clock }); // the schema, made when a new database is opened
      await copyBoard(sqlite.path, database.url);
      open.push({ board, second: () => Promise.reject(new Error('none')), snapshot: async () => null, force: async () => {}, close: async () => (await board.close(), await database.drop()) });
      const now = clock.now();
      expectSame(await reads(sqlite.board, now, [...ids.values()]), await reads(board, now, [...ids.values()]));
      for (const b of [sqlite.board, board]) expect(await b.dispatch.takeEvents('all', [], 1)).toEqual({ started: true, events: [] });
      // To the id, but for the claim lock of the task claimFirst claims (new on each board).
      const locksOut = (out: Record<string, unknown>) => normalized(out, new Map()) as Record<string, unknown>;
      expectSame(locksOut(await transitions(sqlite.board, ids, now)), locksOut(await transitions(board, ids, now)));
      const kinds = ['claimed', 'unblocked', 'promoted', 'respawn_guarded', 'reclaimed', 'assigned'];
      const drained = async (b: BoardStore, cursor: string, limit: number) => normalized(await drain(b, cursor, kinds, limit), new Map());
      expect(await drained(board, 'copied', 3)).toEqual(await drained(sqlite.board, 'copied', 3));
      expect(await drained(board, 'all', -1)).toEqual(await drained(sqlite.board, 'all', -1));
    }, 120_000);
  }

  it('two dispatchers at once: a cooldown is said once, a todo promoted once, a default assignee given once, in the claim that won', async () => {
    const clock = manualClock();
    const h = await openPg(serverUrl, clock);
    open.push(h);
    const other = await h.second();
    for (let round = 0; round < 5; round++) {
      const { task } = await h.board.transitions.create({ title: `quota ${round}` });
      const claimed = await h.board.lease.claim(task.id, { profile: null, leaseMs: LEASE_MS });
      if (!claimed.claimed) throw new Error(claimed.reason);
      await h.board.lease.recordExit(claimed.identity, { exitCode: 75, signal: null, failures: FAILURES, rateLimitCooldownMs: 60_000 });
      const said = await Promise.all([h.board, other].map((b) => b.dispatch.noteRespawnGuarded(task.id, claimed.identity.runId, { reason: 'rate_limited' })));
      expect(said.sort()).toEqual([false, true]);

      const { task: parent } = await h.board.transitions.create({ title: `parent ${round}` });
      const { task: child } = await h.board.transitions.create({ title: `child ${round}`, parents: [parent.id] });
      await h.force(parent.id, { status: 'done' });
      const promoted = await Promise.allSettled([h.board, other].map((b) => b.dispatch.promoteReady(child.id)));
      expect(promoted.map((p) => p.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect((promoted.find((p) => p.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(Refused);

      const claims = await Promise.all([h.board, other].map((b) => b.lease.claimFirst([{ taskId: child.id, profile: 'coder', assign: true }], { leaseMs: LEASE_MS })));
      expect(claims.map((c) => c?.claimed ?? null).sort()).toEqual([null, true]);
      const events = await h.board.tasks.events(child.id);
      expect(events.filter((e) => e.kind === 'promoted')).toHaveLength(1);
      expect(events.filter((e) => e.kind === 'assigned')).toHaveLength(1);
      expect(events.filter((e) => e.kind === 'claimed')).toHaveLength(1);
      expect((await h.board.tasks.events(task.id)).filter((e) => e.kind === 'respawn_guarded')).toHaveLength(1);
    }
  });

  describe('the event cursor', () => {
    const clients: pg.Client[] = [];
    afterEach(async () => {
      await Promise.all(clients.splice(0).map((c) => c.end()));
    });
    async function client(url: string): Promise<pg.Client> {
      const c = new pg.Client({ connectionString: url });
      c.on('error', () => undefined); // the database is dropped under it when the test is done
      await c.connect();
      clients.push(c);
      return c;
    }
    const takenIds = (takes: unknown[]) => takes.flatMap((take) => (take as { events: Array<{ event: { id: number } }> }).events.map((e) => e.event.id));

    it('two connections taking at once, while others write: each event is taken once, by one of them', async () => {
      const clock = manualClock();
      const h = await openPg(serverUrl, clock);
      open.push(h);
      const other = await h.second();
      expect((await h.board.dispatch.takeEvents('hooks', ['created'], 5)).started).toBe(true);
      const writers = await Promise.all([h.second(), h.second()]);
      let writing = true;
      const takes: unknown[][] = [[], []];
      const taker = async (board: BoardStore, into: unknown[]) => {
        for (;;) {
          const stop = !writing;
          into.push(...(await drain(board, 'hooks', ['created'], 3)));
          if (stop) return;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      };
      const taking = [taker(h.board, takes[0]!), taker(other, takes[1]!)];
      await Promise.all(writers.map(async (w, k) => {
        for (let i = 0; i < 40; i++) await w.transitions.create({ title: `w${k} ${i}` });
      }));
      writing = false;
      await Promise.all(taking);
      const [first, second] = [takenIds(takes[0]!), takenIds(takes[1]!)];
      // Which of the two takes what is the machine's timing; that every event is taken once, by one, is the promise.
      const all = [...first, ...second].sort((a, b) => a - b);
      expect(new Set(all).size, 'taken twice').toBe(all.length);
      const created = (await (await client(h.url)).query<{ id: number }>("SELECT id::int AS id FROM task_events WHERE kind = 'created' ORDER BY id")).rows.map((r) => r.id);
      expect(all).toEqual(created);
    });

    it('an event whose transaction began first but committed last is taken after the one that committed first; a rollback takes nothing', async () => {
      const clock = manualClock();
      const h = await openPg(serverUrl, clock);
      open.push(h);
      const { task } = await h.board.transitions.create({ title: 'first' });
      expect((await h.board.dispatch.takeEvents('hooks', ['note'], 10)).started).toBe(true);
      const slow = await client(h.url);
      const note = (c: pg.Client, n: string) => c.query("INSERT INTO task_events (task_id, kind, payload, created_at) VALUES ($1, 'note', jsonb_build_object('n', $2::text), $3)", [task.id, n, clock.now()]);
      const taken = async () => (await drain(h.board, 'hooks', ['note'], 10)).flatMap((take) => (take as Take).events.map((e) => e.event.payload.n));
      await slow.query('BEGIN');
      await note(slow, 'began first');
      await note(await client(h.url), 'committed first');
      expect(await taken()).toEqual(['committed first']);
      await slow.query('COMMIT');
      expect(await taken()).toEqual(['began first']);
      await slow.query('BEGIN');
      await note(slow, 'rolled back');
      await slow.query('ROLLBACK');
      await note(slow, 'after');
      expect(await taken()).toEqual(['after']);
    });
  });
});

let databases = 0;

/** A new empty database made with `options` (migrated when a board opens it), or null when this server cannot make one so. */
async function newDatabase(options: string): Promise<{ url: string; drop(): Promise<void> } | null> {
  const name = `kanban_queries_${process.pid}_${++databases}`;
  const admin = (sql: string) => withClient(serverUrl, (client) => client.query(sql)).then(() => undefined);

  try {
    await admin(`CREATE DATABASE ${name} ${options}`);
  } catch {
    return null; // no ICU in this server
  }
  return { url: withDatabase(serverUrl, name), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/**
 * Copies a SQLite board's rows into an empty PostgreSQL board as they are (ids, times, payloads), and
 * moves its sequences past them: the one place here that writes a board with SQL, so that the
 * queries can be compared on the very same rows.
 */
async function copyBoard(sqlitePath: string, url: string): Promise<void> {
  const source = new Database(sqlitePath, { readonly: true });
  const target = new pg.Client({ connectionString: url });
  await target.connect();
  try {
    await target.query('BEGIN');
    for (const table of ['tasks', 'task_links', 'task_runs', 'task_events', 'task_comments', 'event_cursors']) {
      const rows = source.prepare(`SELECT * FROM ${table} ORDER BY 1`).all() as Array<Record<string, unknown>>;
      for (const row of rows) {
        const columns = Object.keys(row);
        const values = columns.map((c) => `$${columns.indexOf(c) + 1}${c === 'payload' ? '::jsonb' : ''}`);
        await target.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${values.join(', ')})`, columns.map((c) => row[c]));
      }
    }
    for (const table of ['task_runs', 'task_events', 'task_comments']) {
      await target.query(`SELECT setval(pg_get_serial_sequence('${table}', 'id'), coalesce((SELECT max(id) FROM ${table}), 0) + 1, false)`);
    }
    await target.query('COMMIT');
  } finally {
    source.close();
    await target.end();
  }
}
