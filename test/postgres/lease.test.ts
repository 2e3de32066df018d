import pg from 'pg';
import { afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { PgBoard } from '../../src/pg/board.js';
import { KanbanError, Refused } from '../../src/errors.js';
import type { RunIdentity } from '../../src/core/run.js';
import type { BoardStore } from '../../src/port/board.js';
import type { ClaimResult } from '../../src/port/types.js';
import { manualClock, type ManualClock } from '../helpers/board.js';
import type { Harness } from '../conformance/suite.js';
import { openSqlite } from '../sqlite/factory.js';
import { newPgDatabase, openPg } from './factory.js';

/**
 * What a PostgreSQL board's leases must do beyond the conformance suite (issue 14, items 2 and 3):
 * caps held exactly with several connections claiming at once; claim, heartbeat and lease renewal
 * one round trip each; lease times from the database's clock, not the host's; a claimer never
 * queueing on a task another transaction holds; no deadlock between the hot paths and take-backs;
 * and, scenario for scenario, the same rows, events and words as SQLite.
 */
const server = inject('postgresUrl');
const skip = server === null && process.env.CI !== 'true';

const FAILURES = { limit: 3, limitSource: 'default' };
const LEASE_MS = 60_000;

/** Every `query` the driver is asked for, on any connection, while `body` runs (texts, and the SQLSTATEs of those that failed). */
async function queriesDuring<T>(body: () => Promise<T>): Promise<{ result: T; texts: string[]; failed: string[] }> {
  const texts: string[] = [];
  const failed: string[] = [];
  const original = pg.Client.prototype.query;
  const spy = vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (this: pg.Client, ...args: unknown[]) {
    const config = args[0] as string | { text: string };
    texts.push(typeof config === 'string' ? config : config.text);
    const answer = (original as (...a: unknown[]) => unknown).apply(this, args);
    if (answer instanceof Promise) answer.catch((err: { code?: string }) => failed.push(err?.code ?? 'other'));
    return answer as never;
  });
  try {
    return { result: await body(), texts, failed };
  } finally {
    spy.mockRestore();
  }
}

function claimed(result: ClaimResult): RunIdentity {
  if (!result.claimed) throw new Error(`not claimed: ${result.reason}`);
  return result.identity;
}

/** A claim's answer, a refusal as `null`. */
const orRefused = <T>(promise: Promise<T>): Promise<T | null> => promise.catch((err: unknown) => (err instanceof Refused ? null : Promise.reject(err)));

/** `ids` in an order of its own for claimer `k` (rotated, every other one reversed), so that claimers meet everywhere. */
const orderFor = (ids: string[], k: number) => {
  const rotated = [...ids.slice((k * 5) % ids.length), ...ids.slice(0, (k * 5) % ids.length)];
  return k % 2 === 1 ? rotated.reverse() : rotated;
};

describe.skipIf(skip)(`PostgreSQL leases${skip ? ' (skipped: no PostgreSQL here)' : ''}`, () => {
  beforeAll(() => {
    expect(server, 'no PostgreSQL for the run: install postgresql (Debian) or set KANBAN_TEST_POSTGRES_URL').not.toBeNull();
  });

  const open: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const h of open.splice(0).reverse()) await h.close();
  });
  async function harness(clock: ManualClock = manualClock()): Promise<Harness & { url: string }> {
    const h = await openPg(server!, clock);
    open.push(h);
    return h;
  }
  async function sql(url: string): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    open.push({ close: () => client.end() });
    return client;
  }
  const running = async (client: pg.Client) => Number((await client.query("SELECT count(*) AS n FROM tasks WHERE status = 'running'")).rows[0].n);

  describe('caps, counted exactly with several hosts claiming at once', () => {
    it('a board cap of 3: four connections claiming 20 tasks all at once start exactly 3, round after round', async () => {
      const h = await harness();
      const boards = [h.board, await h.second(), await h.second(), await h.second()];
      const client = await sql(h.url);
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push((await h.board.transitions.create({ title: `capped ${i}` })).task.id);
      for (let round = 0; round < 4; round++) {
        const results = await Promise.all(boards.flatMap((b, k) => orderFor(ids, k + round).map((id) => orRefused(b.lease.claim(id, { profile: null, leaseMs: LEASE_MS, caps: { board: 3 } })))));
        const started = results.filter((r) => r?.claimed);
        expect(started, `round ${round}`).toHaveLength(3);
        expect(results.some((r) => r && !r.claimed && r.atCap === 'board'), `round ${round}: none was at the cap`).toBe(true);
        expect(await running(client)).toBe(3);
        for (const r of started) await h.board.lease.release(claimed(r!), { outcome: 'reclaimed', payload: {} });
        expect(await running(client)).toBe(0);
      }
    });

    it("a profile cap of 2 under a board cap of 10: exactly 2 of the profile's tasks start, and the others' still do", async () => {
      const h = await harness();
      const boards = [h.board, await h.second(), await h.second(), await h.second()];
      const client = await sql(h.url);
      const coder: string[] = [];
      const writer: string[] = [];
      for (let i = 0; i < 12; i++) coder.push((await h.board.transitions.create({ title: `coder ${i}`, assignee: 'coder' })).task.id);
      for (let i = 0; i < 3; i++) writer.push((await h.board.transitions.create({ title: `writer ${i}`, assignee: 'writer' })).task.id);
      const caps = { board: 10, profile: 2 };
      const results = await Promise.all(
        boards.flatMap((b, k) => [
          ...orderFor(coder, k).map((id) => orRefused(b.lease.claim(id, { profile: 'coder', leaseMs: LEASE_MS, caps }))),
          ...writer.map((id) => orRefused(b.lease.claim(id, { profile: 'writer', leaseMs: LEASE_MS, caps }))),
        ]),
      );
      const started = results.filter((r) => r?.claimed).map((r) => r!.task.assignee);
      expect(started.filter((a) => a === 'coder')).toHaveLength(2);
      expect(started.filter((a) => a === 'writer')).toHaveLength(2);
      expect(results.find((r) => r && !r.claimed)).toMatchObject({ atCap: 'profile' });
      expect(await running(client)).toBe(4);
    });
  });

  describe('one round trip', () => {
    it('claim, heartbeat and extend are each one query; a refused one asks once more, to say why', async () => {
      const h = await harness();
      const { task } = await h.board.transitions.create({ title: 'hot' });
      await h.board.tasks.count(); // the pool's connection made before counting

      const claim = await queriesDuring(() => h.board.lease.claim(task.id, { profile: 'coder', leaseMs: LEASE_MS, caps: { board: 5, profile: 5 } }));
      expect(claim.texts).toHaveLength(1);
      expect(claim.texts[0]).toMatch(/kanban_claim/);
      const identity = claimed(claim.result);

      const beat = await queriesDuring(() => h.board.lease.heartbeat(identity, { note: 'working', source: 'worker' }));
      expect(beat.texts).toHaveLength(1);
      expect(beat.result.claim_expires).toBe(beat.result.last_heartbeat_at! + LEASE_MS);

      const extend = await queriesDuring(() => h.board.lease.extend(identity, beat.result.claim_expires, { by: 'test' }));
      expect(extend.texts).toHaveLength(1);

      // Refused: the statement, then a read saying why; nothing written.
      const before = await h.snapshot();
      const stale = { ...identity, claimLock: 'elsewhere:1:00' };
      const refusedBeat = await queriesDuring(() => h.board.lease.heartbeat(stale).catch((err: unknown) => err));
      expect(refusedBeat.result).toEqual(new Refused(`run ${identity.runId} of ${task.id} does not hold the task: the claim lock does not match`));
      expect(refusedBeat.texts).toHaveLength(2);
      const refusedClaim = await queriesDuring(() => h.board.lease.claim(task.id, { profile: null, leaseMs: LEASE_MS }).catch((err: unknown) => err));
      expect(refusedClaim.result).toEqual(new Refused(`cannot claim ${task.id}: it is running`));
      expect(refusedClaim.texts).toHaveLength(1);
      const moved = await queriesDuring(() => h.board.lease.extend(identity, 1, {}).catch((err: unknown) => err));
      expect(moved.result).toEqual(new Refused(`${task.id} lease moved meanwhile`));
      expect(moved.texts).toHaveLength(1);
      expect(await h.snapshot()).toEqual(before);
    });
  });

  describe("the database's clock", () => {
    it("without an injected clock, a lease is timed by the database, not by a host whose clock is an hour off", async () => {
      const database = await newPgDatabase(server!, 'dbclock');
      open.push({ close: () => database.drop() });
      const board = await PgBoard.open(database.url);
      open.push(board);
      const client = await sql(database.url);
      const dbNow = async () => Number((await client.query('SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint AS now')).rows[0].now);
      const realNow = Date.now.bind(Date);
      vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 3_600_000); // this host runs an hour ahead

      const { task } = await board.transitions.create({ title: 'timed by the server' });
      let from = await dbNow();
      const claim = await board.lease.claim(task.id, { profile: null, leaseMs: LEASE_MS });
      let to = await dbNow();
      const identity = claimed(claim);
      if (!claim.claimed) throw new Error('unreachable');
      expect(claim.run.started_at).toBeGreaterThanOrEqual(from);
      expect(claim.run.started_at).toBeLessThanOrEqual(to);
      expect(claim.task.claim_expires).toBe(claim.run.started_at + LEASE_MS);

      from = await dbNow();
      const beat = await board.lease.heartbeat(identity);
      to = await dbNow();
      expect(beat.last_heartbeat_at).toBeGreaterThanOrEqual(from);
      expect(beat.last_heartbeat_at).toBeLessThanOrEqual(to);
      expect(beat.claim_expires).toBe(beat.last_heartbeat_at! + LEASE_MS);

      from = await dbNow();
      const extended = await board.lease.extend(identity, beat.claim_expires, {});
      to = await dbNow();
      expect(extended.claim_expires! - LEASE_MS).toBeGreaterThanOrEqual(from);
      expect(extended.claim_expires! - LEASE_MS).toBeLessThanOrEqual(to);

      // Every event of the run is stamped in the database's time too (well within a minute of it).
      const now = await dbNow();
      for (const event of await board.tasks.events(task.id)) expect(Math.abs(event.created_at - now)).toBeLessThan(60_000);
      const payloads = (await board.tasks.events(task.id)).filter((e) => e.kind === 'heartbeat' || e.kind === 'claim_extended').map((e) => e.payload.claim_expires);
      expect(payloads).toEqual([beat.claim_expires, extended.claim_expires]);
    });
  });

  describe('row locks', () => {
    it('a claim does not wait for a task another transaction holds: refused at once, claimed first; claimed once it is let go', async () => {
      const h = await harness();
      const { task } = await h.board.transitions.create({ title: 'held' });
      const holder = await sql(h.url);
      await holder.query('BEGIN');
      await holder.query('SELECT * FROM tasks WHERE id = $1 FOR UPDATE', [task.id]);
      try {
        const started = performance.now();
        await expect(h.board.lease.claim(task.id, { profile: null, leaseMs: LEASE_MS })).rejects.toThrow(new Refused(`cannot claim ${task.id}: it was claimed first`));
        expect(performance.now() - started).toBeLessThan(5_000);
      } finally {
        await holder.query('ROLLBACK');
      }
      expect((await h.board.lease.claim(task.id, { profile: null, leaseMs: LEASE_MS })).claimed).toBe(true);

      // A held task that is not ready says so, from what last committed.
      const { task: blocked } = await h.board.transitions.create({ title: 'held and blocked', status: 'blocked' });
      await holder.query('BEGIN');
      await holder.query('SELECT * FROM tasks WHERE id = $1 FOR UPDATE', [blocked.id]);
      try {
        await expect(h.board.lease.claim(blocked.id, { profile: null, leaseMs: LEASE_MS })).rejects.toThrow(new Refused(`cannot claim ${blocked.id}: it is blocked`));
      } finally {
        await holder.query('ROLLBACK');
      }
    });

    it('heartbeats, lease renewals and take-backs from four connections on the same runs: never a deadlock, each run ended once', async () => {
      const clock = manualClock();
      const h = await harness(clock);
      const boards = [h.board, await h.second(), await h.second(), await h.second()];
      const identities: RunIdentity[] = [];
      for (let i = 0; i < 8; i++) {
        const { task } = await h.board.transitions.create({ title: `contended ${i}` });
        identities.push(claimed(await h.board.lease.claim(task.id, { profile: null, leaseMs: LEASE_MS })));
      }
      const judged = new Map(await Promise.all(identities.map(async (id) => [id.taskId, (await h.board.lease.check(id)).claim_expires] as const)));
      clock.advance(10);
      const { failed } = await queriesDuring(() =>
        Promise.all(
          identities.flatMap((id, i) =>
            boards.flatMap((b, k) => {
              const ops = [
                () => b.lease.heartbeat(id),
                () => b.lease.extend(id, judged.get(id.taskId)!, { by: k }),
                () => b.lease.release(id, { outcome: 'reclaimed', expectedClaimExpires: judged.get(id.taskId)!, payload: {} }),
                () => b.lease.recordSpawn(id, { workerPid: 1000 + k, argv: ['w'], workspace: '/tmp/w' }),
                () => b.lease.complete(id, 'done'),
              ];
              return [ops[(i + k) % ops.length]!, ops[(i + k + 2) % ops.length]!].map((op) => op().then(() => 'ok', (err: unknown) => (err instanceof Refused ? 'refused' : Promise.reject(err))));
            }),
          ),
        ),
      );
      expect(failed.filter((code) => code === '40P01'), 'deadlocks').toEqual([]);
      for (const id of identities) {
        const runs = await h.board.tasks.runs(id.taskId);
        expect(runs).toHaveLength(1);
        const task = await h.board.tasks.get(id.taskId);
        if (task.status === 'running') expect(runs[0]!.status).toBe('running');
        else expect(runs[0]!).toMatchObject({ status: 'ended' });
        const endings = (await h.board.tasks.events(id.taskId)).filter((e) => e.kind === 'completed' || e.kind === 'reclaimed');
        expect(endings.length).toBe(task.status === 'running' ? 0 : 1);
      }
    });
  });

  describe('the same as SQLite', () => {
    it('a scenario through every lease call gives the same answers, refusals, rows and events on both boards', async () => {
      const pgClock = manualClock();
      const pgTrace = await scenario(await harness(pgClock), pgClock);
      const sqliteClock = manualClock();
      const sqlite = await openSqlite(sqliteClock);
      open.push(sqlite);
      const sqliteTrace = await scenario(sqlite, sqliteClock);
      expect(pgTrace.steps).toEqual(sqliteTrace.steps);
      expect(pgTrace.board).toEqual(sqliteTrace.board);
    });
  });
});

/**
 * One scenario through every lease and lifecycle call, on `h`'s board. Returns what each step
 * answered (an error's class and words) and the board at the end, with task ids and claim locks
 * (random) replaced by names, so that two backends' traces compare equal.
 */
async function scenario(h: Harness, clock: ManualClock): Promise<{ steps: unknown[]; board: unknown }> {
  const board: BoardStore = h.board;
  const names = new Map<string, string>();
  const steps: unknown[] = [];
  const name = (text: string) => {
    let out = text;
    for (const [id, named] of names) out = out.split(id).join(named);
    return out.replace(/[^\s":]+:\d+:[0-9a-f]{12}/g, '<lock>');
  };
  const normal = (value: unknown): unknown => JSON.parse(name(JSON.stringify(value ?? null)));
  const step = async <T>(label: string, body: () => Promise<T>): Promise<T | undefined> => {
    clock.advance(1_000);
    try {
      const result = await body();
      steps.push([label, normal(result)]);
      return result;
    } catch (err) {
      if (!(err instanceof KanbanError)) throw err;
      steps.push([label, err.constructor.name, name(err.message)]);
      return undefined;
    }
  };
  const create = async (title: string, input: Partial<Parameters<BoardStore['transitions']['create']>[0]> = {}) => {
    const { task } = await board.transitions.create({ title, ...input });
    names.set(task.id, `<${title}>`);
    return task.id;
  };
  const claim = async (label: string, id: string, options: Parameters<BoardStore['lease']['claim']>[1] = { profile: 'coder', leaseMs: LEASE_MS }) => {
    const result = await step(label, () => board.lease.claim(id, options));
    return result?.claimed ? result.identity : undefined;
  };

  const parent = await create('parent', { assignee: 'coder' });
  const child = await create('child', { parents: [parent], assignee: 'coder' });
  const other = await create('other', { assignee: 'writer', maxRetries: 2 });
  await step('claim a todo', () => board.lease.claim(child, { profile: 'coder', leaseMs: LEASE_MS }));
  await step('claim a missing task', () => board.lease.claim('t_00000000', { profile: 'coder', leaseMs: LEASE_MS }));
  await step('force-promote the child', () => board.transitions.promote(child, { force: true }));
  const first = (await claim('claim the forced child', child))!;
  await step('claim it again', () => board.lease.claim(child, { profile: 'coder', leaseMs: LEASE_MS }));
  await step('board cap', () => board.lease.claim(other, { profile: 'writer', leaseMs: LEASE_MS, caps: { board: 1 } }));
  await step('profile cap', () => board.lease.claim(parent, { profile: 'coder', leaseMs: LEASE_MS, caps: { board: 5, profile: 1 } }));
  await step('check', () => board.lease.check(first));
  await step('heartbeat with a note', () => board.lease.heartbeat(first, { note: 'halfway', source: 'bridge' }));
  await step('heartbeat without', () => board.lease.heartbeat(first, { note: '' }));
  await step('attach supervisor', () => board.lease.attachSupervisor(first, 4321));
  await step('spawned', () => board.lease.recordSpawn(first, { workerPid: 1234, argv: ['agent', '--go'], workspace: '/tmp/ws' }));
  await step('comment', () => board.lease.comment(first, 'a note from the worker'));
  await step('follow-up', async () => {
    const { task, created } = await board.lease.create(first, { title: 'follow-up' });
    names.set(task.id, '<follow-up>');
    return created;
  });
  const expires = (await board.lease.check(first)).claim_expires;
  await step('extend, lease moved', () => board.lease.extend(first, (expires ?? 0) - 1, { by: 'judge' }));
  await step('extend', () => board.lease.extend(first, expires, { by: 'judge', supervisor: 4321 }));
  await step('release, lease moved', () => board.lease.release(first, { outcome: 'stale', expectedClaimExpires: expires, payload: {} }));
  await step('release counted', async () => board.lease.release(first, { outcome: 'stale', counted: FAILURES, payload: { detail: 'silent for 30 min', since: 1 } }));
  await step('stale heartbeat', () => board.lease.heartbeat(first));
  await step('stale extend', () => board.lease.extend(first, null, {}));
  await step('stale comment', () => board.lease.comment(first, 'late'));
  await step('stale exit, recorded on its run', () => board.lease.recordExit(first, { exitCode: 143, signal: 'SIGTERM', failures: FAILURES }));
  await step('stale exit again, kept as it was', () => board.lease.recordExit(first, { exitCode: 1, signal: null, failures: FAILURES }));

  // The child went back to todo (its parent is open); ready again without --force: demoted at its claim.
  await h.force(child, { status: 'ready' });
  await step('claim demoted', () => board.lease.claim(child, { profile: 'coder', leaseMs: LEASE_MS }));

  // The other task: crash, rate limit, machine fault, timeout, clean exit (violation), its breaker.
  const exits: Array<[string, Parameters<BoardStore['lease']['recordExit']>[1]]> = [
    ['rate limited', { exitCode: 75, signal: null, failures: FAILURES, rateLimitCooldownMs: 30_000 }],
    ['machine fault', { exitCode: 1, signal: null, failures: FAILURES, machineFault: { fault: 'disk full', retryInMs: 5_000 } }],
    ['timed out', { exitCode: null, signal: 'SIGKILL', failures: FAILURES, timedOut: true }],
    ['clean exit as violation', { exitCode: 0, signal: null, failures: FAILURES }],
  ];
  for (const [label, exit] of exits) {
    const run = await claim(`claim for ${label}`, other, { profile: 'writer', leaseMs: 30_000 });
    if (run) await step(label, () => board.lease.recordExit(run, exit));
  }
  await step('unblock other', () => board.transitions.unblock(other));
  const ended: Array<[string, (id: RunIdentity) => Promise<unknown>]> = [
    ['spawn failed, uncounted', (id) => board.lease.recordFailure(id, 'spawn_failed', 'no such program', FAILURES, { retryInMs: 60_000 })],
    ['crashed supervisor', (id) => board.lease.recordFailure(id, 'crashed', 'supervisor died', FAILURES)],
    ['ending: credentials', (id) => board.lease.recordExit(id, { exitCode: 1, signal: null, failures: FAILURES, ending: { outcome: 'blocked', summary: null, error: 'credentials refused', blockReason: 'key revoked' } })],
  ];
  for (const [label, end] of ended) {
    await board.transitions.unblock(other).catch(() => undefined);
    const run = await claim(`claim for ${label}`, other, { profile: 'writer', leaseMs: 30_000 });
    if (run) await step(label, () => end(run));
  }
  await step('unblock other again', () => board.transitions.unblock(other));
  const reviewRun = await claim('claim for worker review', other, { profile: 'writer', leaseMs: 30_000 });
  await step('worker review', () => board.lease.review(reviewRun!, 'please look'));
  await step('exit after review', () => board.lease.recordExit(reviewRun!, { exitCode: 0, signal: null, failures: FAILURES }));
  await step('request changes', () => board.transitions.requestChanges(other, 'one more thing'));
  const blockRun = await claim('claim for worker block', other, { profile: 'writer', leaseMs: 30_000 });
  await step('worker block', () => board.lease.block(blockRun!, 'need a key'));
  await step('unblock after worker block', () => board.transitions.unblock(other));
  const exitReview = await claim('claim for ending review', other, { profile: 'writer', leaseMs: 30_000 });
  await step('ending review', () => board.lease.recordExit(exitReview!, { exitCode: 0, signal: null, failures: FAILURES, ending: { outcome: 'review', summary: 'answered', error: null } }));
  await step('approve', () => board.transitions.approve(other));
  await step('reopen', () => board.transitions.reopen(other));
  const stopRun = await claim('claim to stop', other, { profile: 'writer', leaseMs: 30_000 });
  await step('stop and block', () => board.transitions.stopAndBlock(other, 'wrong approach'));
  await step('exit after stop', () => board.lease.recordExit(stopRun!, { exitCode: 143, signal: 'SIGTERM', failures: FAILURES }));
  await step('schedule', () => board.transitions.schedule(other, Date.UTC(2030, 0, 1), 'later'));
  await step('schedule in the past', () => board.transitions.schedule(other, 1, 'never'));

  // The parent: a worker completes it, which releases its child; the child runs to completion from its exit.
  const parentRun = await claim('claim the parent', parent);
  await step('worker complete', () => board.lease.complete(parentRun!, 'parent done'));
  const childRun = await claim('claim the released child', child);
  await step('child: exit with an answer', () => board.lease.recordExit(childRun!, { exitCode: 0, signal: null, failures: FAILURES, ending: { outcome: 'completed', summary: 'the answer', error: null } }));
  await step('archive the child', () => board.transitions.archive(child));
  await step('block the archived', () => board.transitions.block(child));
  await step('complete by a person', () => board.transitions.complete(other, 'by hand'));

  const tasks = [];
  for (const [id, named] of names) {
    const detail = await board.tasks.show(id);
    tasks.push([named, normal({ ...detail, events: detail.events.map(({ id: _id, ...event }) => event), comments: detail.comments.map(({ id: _id, ...comment }) => comment) })]);
  }
  return { steps, board: tasks };
}
