import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allows, refusal, type Transition } from '../../src/core/transitions.js';
import { NotFound, Refused } from '../../src/errors.js';
import type { BoardStore } from '../../src/port/board.js';
import type { ClaimCandidate, GcCursor } from '../../src/port/types.js';
import type { RunIdentity } from '../../src/core/run.js';
import { STATUSES, type Status, type TaskRow } from '../../src/core/types.js';
import { manualClock, type ManualClock } from '../helpers/board.js';
import { waitFor } from '../helpers/workers.js';

/** Longer than SQLite's watch poll (1 s) and PostgreSQL's settle (5 ms after a notification): a watch that would tell of a commit has told by then. */
const QUIET_MS = 1500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Until `count()` has not changed for QUIET_MS (within the machine's deadline). */
async function quiet(count: () => number, deadlineMs = 30_000): Promise<void> {
  const deadline = performance.now() + deadlineMs;
  for (let before = count(); ; before = count()) {
    await sleep(QUIET_MS);
    if (count() === before) return;
    if (performance.now() > deadline) throw new Error(`still changing after ${deadlineMs} ms`);
  }
}

/**
 * The board port's conformance suite (as River's driver tests and BullMQ's adapter conformance): one
 * set of specs, run against each backend's factory. A new backend adds a factory and nothing else;
 * what it must do is what these specs say, through the port alone.
 */

/** An open board for one spec, with the hooks a spec needs beyond the port. */
export interface Harness {
  board: BoardStore;
  /** Another connection to the same board, as another process would have; closed with the harness. */
  second(): Promise<BoardStore>;
  /** Every row of the board in a canonical order: equal snapshots mean nothing was written. */
  snapshot(): Promise<unknown>;
  /** Test setup only: sets columns of a task's row, for a state the transitions would not make. */
  force(taskId: string, patch: Partial<TaskRow>): Promise<void>;
  close(): Promise<void>;
}

export interface BoardFactory {
  name: string;
  /**
   * A new, empty board whose time is `clock`. `alone`: the spec will not ask for a second
   * connection, so the backend may hand a faster board (SQLite: one in memory).
   */
  open(clock: ManualClock, options?: { alone?: boolean }): Promise<Harness>;
}

const FAILURES = { limit: 2, limitSource: 'default' };
const LEASE_MS = 60_000;

/** Each transition of the table, as a call on the port (those that stop a worker are the dispatcher's). */
const ACTIONS: Partial<Record<Transition, (board: BoardStore, id: string, now: number) => Promise<unknown>>> = {
  block: (b, id) => b.transitions.block(id, 'waiting on a person'),
  unblock: (b, id) => b.transitions.unblock(id),
  schedule: (b, id, now) => b.transitions.schedule(id, now + 3_600_000, 'later'),
  promote: (b, id) => b.transitions.promote(id),
  complete: (b, id) => b.transitions.complete(id, 'done by hand'),
  approve: (b, id) => b.transitions.approve(id),
  'request-changes': (b, id) => b.transitions.requestChanges(id, 'one more thing'),
  reopen: (b, id) => b.transitions.reopen(id),
  archive: (b, id) => b.transitions.archive(id),
  'stop-and-block': (b, id) => b.transitions.stopAndBlock(id, 'a person stopped it'),
};

export function conformance(factory: BoardFactory): void {
  describe(`the board port on ${factory.name}`, () => {
    let clock: ManualClock;
    let h: Harness;
    let board: BoardStore;
    beforeEach(async () => {
      clock = manualClock();
      h = await factory.open(clock);
      board = h.board;
    });
    afterEach(async () => {
      await h.close();
    });

    /** A task in `status`: a real claim for running, the force hook for the rest. */
    async function taskIn(status: Status): Promise<string> {
      const { task } = await board.transitions.create({ title: `a ${status} task` });
      if (status === 'running') await claim(task.id);
      else await h.force(task.id, { status, scheduled_until: status === 'scheduled' ? clock.now() + 3_600_000 : null });
      return task.id;
    }

    async function claim(taskId: string, leaseMs = LEASE_MS, on: BoardStore = board): Promise<RunIdentity> {
      const result = await on.lease.claim(taskId, { profile: null, leaseMs });
      if (!result.claimed) throw new Error(`could not claim ${taskId}: ${result.reason}`);
      return result.identity;
    }

    describe('every transition of the table, from every status', () => {
      for (const [transition, act] of Object.entries(ACTIONS) as Array<[Transition, NonNullable<(typeof ACTIONS)[Transition]>]>) {
        it(`${transition}: allowed where the table says, refused elsewhere with its words and nothing written`, async () => {
          for (const status of STATUSES) {
            const id = await taskIn(status);
            if (allows(transition, status)) {
              await expect(act(board, id, clock.now()), `${transition} from ${status}`).resolves.toBeDefined();
            } else {
              const before = await h.snapshot();
              const refused = await act(board, id, clock.now()).then(() => null, (err: unknown) => err);
              expect(refused, `${transition} from ${status}`).toBeInstanceOf(Refused);
              expect((refused as Error).message).toBe(refusal(transition, { id, status }));
              expect(await h.snapshot(), `${transition} from ${status} wrote something`).toEqual(before);
            }
          }
        });
      }

      it('a batch is created whole or not at all, and a dry run of it writes nothing', async () => {
        const items = [{ input: { title: 'first' }, label: 'line 1' }, { input: { title: 'second' }, parentItems: [0], label: 'line 2' }];
        const before = await h.snapshot();
        const dry = await board.transitions.createMany(items, { dryRun: true });
        expect(dry.map((r) => [r.task.title, r.task.status])).toEqual([['first', 'ready'], ['second', 'todo']]);
        expect(await h.snapshot()).toEqual(before);
        await expect(board.transitions.createMany([...items, { input: { title: 'bad', parents: ['t_00000000'] }, label: 'line 3' }])).rejects.toThrow(/^line 3: /);
        expect(await h.snapshot()).toEqual(before);
        expect((await board.transitions.createMany(items)).map((r) => r.created)).toEqual([true, true]);
        expect(await board.tasks.count()).toBe(2);
      });

      it('a task that does not exist is NotFound, and nothing is written', async () => {
        const before = await h.snapshot();
        await expect(board.transitions.block('t_00000000')).rejects.toBeInstanceOf(NotFound);
        await expect(board.tasks.get('t_00000000')).rejects.toBeInstanceOf(NotFound);
        expect(await h.snapshot()).toEqual(before);
      });
    });

    describe('fencing', () => {
      it('a run that no longer holds its task is refused by every run write, and the newer run is untouched', async () => {
        const { task } = await board.transitions.create({ title: 'fenced' });
        const first = await claim(task.id);
        await board.lease.release(first, { outcome: 'reclaimed', payload: { by: 'conformance' } });
        const second = await claim(task.id);
        expect(second.runId).not.toBe(first.runId);
        const before = await h.snapshot();
        const stale: Array<[string, () => Promise<unknown>]> = [
          ['check', () => board.lease.check(first)],
          ['heartbeat', () => board.lease.heartbeat(first, { note: 'still here' })],
          ['complete', () => board.lease.complete(first, 'late')],
          ['block', () => board.lease.block(first, 'late')],
          ['comment', () => board.lease.comment(first, 'late')],
          ['release', () => board.lease.release(first, { outcome: 'stale', payload: {} })],
        ];
        for (const [name, write] of stale) await expect(write(), name).rejects.toBeInstanceOf(Refused);
        await expect(board.lease.heartbeat({ ...second, claimLock: 'host:1:forged' })).rejects.toBeInstanceOf(Refused);
        expect(await h.snapshot()).toEqual(before);
        // Its supervisor's exit is still recorded on its own run (exit code 0), and decides nothing.
        const task0 = await board.tasks.get(task.id);
        expect(await board.lease.recordExit(first, { exitCode: 0, signal: null, failures: FAILURES })).toMatchObject({ outcome: 'reclaimed', alreadyClosed: true });
        expect(await board.tasks.get(task.id)).toEqual(task0);
        expect(await board.tasks.run(task.id, first.runId)).toMatchObject({ exit_code: 0, outcome: 'reclaimed' });
        expect((await board.lease.check(second)).current_run_id).toBe(second.runId);
      });

      it('a task is claimed once: a second claim is refused, saying why', async () => {
        const { task } = await board.transitions.create({ title: 'once' });
        await claim(task.id);
        await expect(board.lease.claim(task.id, { profile: null, leaseMs: LEASE_MS })).rejects.toThrow(new Refused(`cannot claim ${task.id}: it is running`));
      });

      it('a claim at the board cap is not made, and says so', async () => {
        const ids = [(await board.transitions.create({ title: 'one' })).task.id, (await board.transitions.create({ title: 'two' })).task.id];
        await claim(ids[0]!);
        const capped = await board.lease.claim(ids[1]!, { profile: null, leaseMs: LEASE_MS, caps: { board: 1 } });
        expect(capped).toMatchObject({ claimed: false, atCap: 'board' });
        expect((await board.tasks.get(ids[1]!)).status).toBe('ready');
      });

      describe('the first of several candidates (claimFirst)', () => {
        const first = (candidates: ClaimCandidate[], on: BoardStore = board) => on.lease.claimFirst(candidates, { leaseMs: LEASE_MS });
        const made = async (title: string, input: { assignee?: string; parents?: string[] } = {}) => (await board.transitions.create({ title, ...input })).task.id;

        it('passes over one running, one done, one gone and one assigned since it was read, and claims the next, in one call', async () => {
          const running = await taskIn('running');
          const done = await taskIn('done');
          const assigned = await made('assigned meanwhile', { assignee: 'reviewer' });
          const next = await made('next');
          const after = await made('after');
          const before = await h.snapshot();
          expect(await first([{ taskId: running, profile: 'coder' }, { taskId: done, profile: 'coder' }])).toBeNull();
          expect(await h.snapshot()).toEqual(before); // passing over writes nothing
          const claim = await first([
            { taskId: running, profile: 'coder' },
            { taskId: done, profile: 'coder' },
            { taskId: 't_00000000', profile: 'coder' },
            { taskId: assigned, profile: 'coder', assign: true },
            { taskId: next, profile: 'coder' },
            { taskId: after, profile: 'coder' },
          ]);
          expect(claim).toMatchObject({ claimed: true, task: { id: next, status: 'running', assignee: null }, run: { task_id: next, profile: 'coder' } });
          expect((await board.tasks.get(after)).status).toBe('ready');
          expect((await board.tasks.get(assigned)).status).toBe('ready');
          expect(await first([])).toBeNull();
        });

        it('gives an unassigned task the default assignee in the claim: assigned, then claimed', async () => {
          const id = await made('unassigned');
          const claim = await first([{ taskId: id, profile: 'coder', assign: true }]);
          expect(claim).toMatchObject({ claimed: true, task: { id, status: 'running', assignee: 'coder' } });
          const kinds = (await board.tasks.events(id)).map((e) => e.kind);
          expect(kinds.slice(-2)).toEqual(['assigned', 'claimed']);
          expect((await board.tasks.events(id)).find((e) => e.kind === 'assigned')?.payload).toEqual({ from: null, to: 'coder', source: 'default_assignee' });
        });

        it('answers the first not passed over that cannot start (a cap, a parent unfinished), leaving those after it', async () => {
          const busy = await made('busy', { assignee: 'coder' });
          await board.lease.claim(busy, { profile: 'coder', leaseMs: LEASE_MS });
          const capped = await made('capped', { assignee: 'coder' });
          const other = await made('other', { assignee: 'reviewer' });
          const before = await h.snapshot();
          const atCap = await first([
            { taskId: busy, profile: 'coder' },
            { taskId: capped, profile: 'coder', caps: { board: 5, profile: 1 } },
            { taskId: other, profile: 'reviewer', caps: { board: 5 } },
          ]);
          expect(atCap).toMatchObject({ claimed: false, atCap: 'profile', task: { id: capped }, reason: 'profile coder is at its cap of 1' });
          expect(await h.snapshot()).toEqual(before);

          const parent = await made('parent');
          const child = await made('child', { parents: [parent] });
          await h.force(child, { status: 'ready' }); // its parent reopened behind the dispatcher's back
          const demoted = await first([{ taskId: child, profile: 'reviewer' }, { taskId: other, profile: 'reviewer' }]);
          expect(demoted).toMatchObject({ claimed: false, task: { id: child, status: 'todo' }, reason: `parent ${parent} is not done (ready)` });
          expect((await board.tasks.get(other)).status).toBe('ready');
        });
      });
    });

    describe('two connections at once', () => {
      it('racing claims on the same tasks: each task is claimed exactly once', async () => {
        const other = await h.second();
        const ids: string[] = [];
        for (let i = 0; i < 20; i++) ids.push((await board.transitions.create({ title: `race ${i}` })).task.id);
        // A claim that loses is refused (the task is running by then): true for the winner only.
        const won = (on: BoardStore, id: string) => on.lease.claim(id, { profile: null, leaseMs: LEASE_MS }).then((r) => r.claimed, (err: unknown) => (err instanceof Refused ? false : Promise.reject(err)));
        // From opposite ends of the queue, so that they meet in the middle.
        const claimAll = (on: BoardStore, order: string[]) => Promise.all(order.map((id) => won(on, id).then((claimed) => [id, claimed] as const)));
        const [mine, theirs] = await Promise.all([claimAll(board, ids), claimAll(other, [...ids].reverse())]);
        const winners = new Map<string, number>();
        for (const [id, claimed] of [...mine, ...theirs]) if (claimed) winners.set(id, (winners.get(id) ?? 0) + 1);
        expect(ids.map((id) => winners.get(id))).toEqual(ids.map(() => 1));
        expect(mine.some(([, claimed]) => claimed) && theirs.some(([, claimed]) => claimed)).toBe(true);
        expect((await board.tasks.runs(ids[0]!)).length).toBe(1);
      });

      it('two claimers taking the first of the same candidates, over and over: each task claimed once, by one of them, none lost', async () => {
        const other = await h.second();
        const ids: string[] = [];
        for (let i = 0; i < 24; i++) ids.push((await board.transitions.create({ title: `first ${i}` })).task.id);
        const claimAll = async (on: BoardStore) => {
          const won: string[] = [];
          for (;;) {
            const claim = await on.lease.claimFirst(ids.map((taskId) => ({ taskId, profile: null })), { leaseMs: LEASE_MS });
            if (!claim) return won;
            if (!claim.claimed) throw new Error(claim.reason);
            won.push(claim.task.id);
          }
        };
        const [mine, theirs] = await Promise.all([claimAll(board), claimAll(other)]);
        expect([...mine, ...theirs].sort()).toEqual([...ids].sort());
        for (const id of ids) expect(await board.tasks.runs(id)).toHaveLength(1);
      });

      it('a heartbeat that lands while the lease is being taken back wins: the compare-and-set refuses the take-back', async () => {
        const other = await h.second();
        const { task } = await board.transitions.create({ title: 'alive' });
        const identity = await claim(task.id, 1_000);
        const judged = (await other.lease.check(identity)).claim_expires; // what the dispatcher judged expired
        clock.advance(2_000);
        await board.lease.heartbeat(identity, { source: 'worker' });
        await expect(other.lease.release(identity, { outcome: 'reclaimed', expectedClaimExpires: judged, payload: {} })).rejects.toBeInstanceOf(Refused);
        await expect(other.lease.extend(identity, judged, {})).rejects.toBeInstanceOf(Refused);
        expect((await board.tasks.get(task.id)).status).toBe('running');
        const now = (await other.lease.check(identity)).claim_expires;
        await other.lease.release(identity, { outcome: 'reclaimed', expectedClaimExpires: now, payload: {} });
        expect((await board.tasks.get(task.id)).status).toBe('ready');
      });

      it('heartbeat and take-back racing from two connections, 30 times: one wins, the other is refused, never a deadlock', async () => {
        // Both touch the task and its run: every transition locks the task first (a backend with row
        // locks would otherwise deadlock heartbeat, which writes the task, against take-back).
        const other = await h.second();
        const endings = { heartbeat: 0, takeBack: 0 };
        for (let i = 0; i < 30; i++) {
          const { task } = await board.transitions.create({ title: `race ${i}` });
          const identity = await claim(task.id);
          const judged = (await other.lease.check(identity)).claim_expires;
          clock.advance(10);
          // Each starts first half the time (one connection's call may simply land first).
          const beating = () => board.lease.heartbeat(identity, { source: 'worker' });
          const takingBack = () => other.lease.release(identity, { outcome: 'reclaimed', expectedClaimExpires: judged, payload: {} });
          let beat: PromiseSettledResult<unknown>, taken: PromiseSettledResult<unknown>;
          if (i % 2 === 0) [beat, taken] = await Promise.allSettled([beating(), takingBack()]);
          else [taken, beat] = await Promise.allSettled([takingBack(), beating()]);
          const refused = [beat, taken].filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as unknown);
          expect(refused, `race ${i}`).toHaveLength(1);
          expect(refused[0], `race ${i}`).toBeInstanceOf(Refused);
          const status = (await board.tasks.get(task.id)).status;
          if (beat.status === 'fulfilled') {
            expect(status).toBe('running');
            endings.heartbeat++;
          } else {
            expect(status).toBe('ready');
            endings.takeBack++;
          }
        }
        expect(endings.heartbeat + endings.takeBack).toBe(30);
        console.log(`${factory.name}: heartbeat won ${endings.heartbeat}, take-back won ${endings.takeBack}`);
      });

      it('a board is at its backend\'s latest schema, and another connection opening it migrates nothing', async () => {
        const { schemaVersion, storage } = await board.describe();
        expect(schemaVersion).toBeGreaterThan(0);
        expect(typeof storage).toBe('object');
        await board.transitions.create({ title: 'before the second open' });
        const before = await h.snapshot();
        const other = await h.second();
        expect((await other.describe()).schemaVersion).toBe(schemaVersion);
        expect(await other.tasks.count()).toBe(1);
        expect(await h.snapshot()).toEqual(before);
      });

      it('watch hears a commit from another connection, and not its own; one made as it starts is not missed', async () => {
        const other = await h.second();
        let heard = 0;
        const stop = board.watch(() => heard++);
        try {
          // At once, before a PostgreSQL watch can be listening: heard all the same (SQLite compares
          // with the board at the call; PostgreSQL tells once when its LISTEN is in place).
          await other.transitions.create({ title: 'as it starts' });
          await waitFor('the watch to tell of a commit made as it started', () => heard > 0, 30_000, 5);
          await quiet(() => heard);
          heard = 0;
          await board.transitions.create({ title: 'mine' });
          await sleep(QUIET_MS);
          expect(heard, 'its own commit').toBe(0);
          const started = performance.now();
          await other.transitions.create({ title: 'theirs' });
          await waitFor('the watch to fire', () => heard > 0, 30_000, 5);
          // The bound the board is built for is 500 ms (a file watcher, a 1 s poll behind it); the
          // deadline above is the machine's. The latency is printed, not asserted.
          console.log(`${factory.name}: watch heard another connection's commit after ${Math.round(performance.now() - started)} ms`);
        } finally {
          stop();
        }
      });
    });

    describe('a person stops a running task', () => {
      it('stop-and-block closes its run blocked (not counted), drops the claim and names the run to stop; the run can write nothing more', async () => {
        const { task } = await board.transitions.create({ title: 'stop me' });
        const identity = await claim(task.id);
        const { task: blocked, stopped } = await board.transitions.stopAndBlock(task.id, 'wrong approach');
        expect(stopped).toEqual(identity);
        expect(blocked).toMatchObject({ status: 'blocked', status_reason: 'wrong approach', claim_lock: null, current_run_id: null, consecutive_failures: 0 });
        expect(await board.tasks.run(task.id, identity.runId)).toMatchObject({ status: 'ended', outcome: 'blocked' });
        await expect(board.lease.heartbeat(identity)).rejects.toBeInstanceOf(Refused);
        expect(await board.lease.recordExit(identity, { exitCode: 143, signal: 'SIGTERM', failures: FAILURES })).toMatchObject({ alreadyClosed: true });
        expect((await board.tasks.get(task.id)).status).toBe('blocked');
        // Not running: just blocked, no run to stop.
        const { task: idle } = await board.transitions.create({ title: 'idle' });
        expect((await board.transitions.stopAndBlock(idle.id)).stopped).toBeNull();
      });
    });

    describe("the dispatcher's queries", () => {
      it('running counts by assignee, and the ended runs that had a worker', async () => {
        const ids = [];
        for (const assignee of ['coder', 'coder', 'reviewer', null]) ids.push((await board.transitions.create({ title: `for ${assignee}`, assignee })).task.id);
        const runs = [];
        for (const id of ids) runs.push(await claim(id));
        const counts = await board.dispatch.runningCounts();
        expect(counts.total).toBe(4);
        expect(Object.fromEntries(counts.byAssignee)).toEqual({ coder: 2, reviewer: 1 });
        await board.lease.recordSpawn(runs[0]!, { workerPid: 4242, argv: ['agent'], workspace: '/tmp/w' });
        clock.advance(1_000);
        await board.lease.recordExit(runs[0]!, { exitCode: 0, signal: null, failures: FAILURES });
        await board.lease.recordExit(runs[1]!, { exitCode: 0, signal: null, failures: FAILURES }); // no worker was recorded
        const ended = await board.dispatch.endedRunsWithWorkers(clock.now() - 60_000, clock.now() + 1);
        expect(ended.map((r) => [r.id, r.worker_pid])).toEqual([[runs[0]!.runId, 4242]]);
        expect(await board.dispatch.endedRunsWithWorkers(clock.now() + 1, clock.now() + 60_000)).toEqual([]);
        expect((await board.dispatch.runningCounts()).total).toBe(2);
      });

      it('a rate-limited run holds its task for the cooldown, said once per cooldown', async () => {
        const { task } = await board.transitions.create({ title: 'quota' });
        const identity = await claim(task.id);
        await board.lease.recordExit(identity, { exitCode: 75, signal: null, failures: FAILURES, rateLimitCooldownMs: 120_000 });
        const run = await board.dispatch.lastRun(task.id);
        expect(run).toMatchObject({ id: identity.runId, outcome: 'rate_limited' });
        expect(await board.dispatch.cooldownOf(identity.runId)).toEqual({ setAt: clock.now(), until: clock.now() + 120_000 });
        expect(await board.dispatch.noteRespawnGuarded(task.id, identity.runId, { reason: 'rate_limited' })).toBe(true);
        expect(await board.dispatch.noteRespawnGuarded(task.id, identity.runId, { reason: 'rate_limited' })).toBe(false);
        expect((await board.tasks.events(task.id)).filter((e) => e.kind === 'respawn_guarded')).toHaveLength(1);
        const { task: other } = await board.transitions.create({ title: 'never ran' });
        expect(await board.dispatch.lastRun(other.id)).toBeUndefined();
      });

      it('promoteReady moves a todo whose parents are finished, and refuses one still waiting, writing nothing', async () => {
        const { task: parent } = await board.transitions.create({ title: 'parent' });
        const { task: child } = await board.transitions.create({ title: 'child', parents: [parent.id] });
        const before = await h.snapshot();
        await expect(board.dispatch.promoteReady(child.id)).rejects.toBeInstanceOf(Refused);
        expect(await h.snapshot()).toEqual(before);
        await h.force(parent.id, { status: 'done' }); // finished without the cascade: the dispatcher's step finds it
        expect(await board.dispatch.promotableTodos()).toEqual([expect.objectContaining({ id: child.id })]);
        expect(await board.dispatch.promoteReady(child.id)).toMatchObject({ id: child.id, status: 'ready' });
        await expect(board.dispatch.promoteReady(child.id)).rejects.toBeInstanceOf(Refused);
      });

      it('list and listJson agree', async () => {
        for (let i = 0; i < 3; i++) await board.transitions.create({ title: `task ${i}`, priority: i });
        await board.transitions.archive((await board.transitions.create({ title: 'gone' })).task.id);
        const filter = { sort: 'priority' as const };
        expect(JSON.parse((await board.tasks.listJson(filter)).toString('utf8'))).toEqual(await board.tasks.list(filter));
        expect(JSON.parse((await board.tasks.listJson({ statuses: ['triage'] })).toString('utf8'))).toEqual([]);
      });
    });

    describe('the breaker', () => {
      it('counts failed runs, blocks the task at the limit with gave_up, and a rate limit is never counted', async () => {
        const { task } = await board.transitions.create({ title: 'broken' });
        const crash = async () => board.lease.recordExit(await claim(task.id), { exitCode: 1, signal: null, failures: FAILURES });
        expect((await crash()).task).toMatchObject({ status: 'ready', consecutive_failures: 1 });
        expect((await crash()).task).toMatchObject({ status: 'blocked', consecutive_failures: 2, status_reason: 'gave up after 2 failures (last: crashed)' });
        expect((await board.tasks.events(task.id)).filter((e) => e.kind === 'gave_up').map((e) => e.payload)).toEqual([
          { failures: 2, limit: 2, limit_source: 'default', trigger: 'crashed' },
        ]);

        const { task: limited } = await board.transitions.create({ title: 'quota' });
        for (let i = 0; i < 4; i++) {
          const identity = await claim(limited.id);
          const record = await board.lease.recordExit(identity, { exitCode: 75, signal: null, failures: { limit: 1, limitSource: 'env' }, rateLimitCooldownMs: 0 });
          expect(record).toMatchObject({ outcome: 'rate_limited', task: { status: 'ready', consecutive_failures: 0 } });
        }
      });

      it("a task's own max_retries wins over the board's limit", async () => {
        const { task } = await board.transitions.create({ title: 'fragile', maxRetries: 1 });
        const record = await board.lease.recordFailure(await claim(task.id), 'crashed', 'supervisor died', FAILURES);
        expect(record).toMatchObject({ status: 'blocked', consecutive_failures: 1 });
      });
    });

    describe('retention', () => {
      const DAY = 86_400_000;

      /** A task with a run (claimed, commented on, ended) and a comment of a person's, then archived. */
      async function withHistory(title: string): Promise<string> {
        clock.advance(1_000); // archived in the order they are made
        const { task } = await board.transitions.create({ title });
        const identity = await claim(task.id);
        await board.lease.comment(identity, 'from the run');
        await board.lease.recordExit(identity, { exitCode: 1, signal: null, failures: FAILURES });
        await board.transitions.comment(task.id, 'from a person');
        await h.force(task.id, { status: 'done' });
        await board.transitions.archive(task.id);
        return task.id;
      }

      /**
       * What a pass in batches of one takes, in order: a dry one, following each batch's cursor, then a
       * real one, each batch resuming from the board's mark (five batches at most: three tasks, then none).
       */
      async function passInBatchesOfOne(before: number): Promise<{ dryTaken: string[]; taken: string[] }> {
        const dryTaken: string[] = [];
        for (let after = null as GcCursor | null, i = 0; i < 5; i++) {
          const batch = await board.retention.collect({ before, limit: 1, after, dryRun: true });
          dryTaken.push(...batch.tasks.map((t) => t.id));
          if (batch.next === null) break;
          after = batch.next;
        }
        const taken: string[] = [];
        for (let i = 0; i < 5; i++) taken.push(...(await board.retention.collect({ before, limit: 1 })).tasks.map((t) => t.id));
        return { dryTaken, taken };
      }

      it('removes the events, comments and runs of tasks archived before the limit, and nothing else; the task stays; a dry run counts the same and writes nothing', async () => {
        const old = [await withHistory('old 1'), await withHistory('old 2')];
        clock.advance(40 * DAY);
        const recent = await withHistory('recent');
        const { task: open } = await board.transitions.create({ title: 'open' });
        const before = clock.now() - 30 * DAY;
        const snapshot = await h.snapshot();
        const dry = await board.retention.collect({ before, limit: 10, dryRun: true });
        expect(await h.snapshot()).toEqual(snapshot);
        const done = await board.retention.collect({ before, limit: 10 });
        expect(done).toEqual(dry);
        expect(done.tasks.map((t) => t.id)).toEqual(old);
        expect(done).toMatchObject({ comments: 4, runs: 2, next: null });
        expect(done.events).toBeGreaterThanOrEqual(10);
        for (const id of old) {
          expect(await board.tasks.events(id)).toEqual([]);
          expect(await board.tasks.comments(id)).toEqual([]);
          expect(await board.tasks.runs(id)).toEqual([]);
          expect(await board.tasks.get(id)).toMatchObject({ status: 'archived', title: expect.stringMatching(/^old/) });
        }
        expect(await board.tasks.runs(recent)).toHaveLength(1);
        expect(await board.tasks.comments(recent)).toHaveLength(2);
        expect((await board.tasks.events(open.id)).length).toBeGreaterThan(0);
        // The board keeps where the pass got to: a second pass finds nothing, even a dry one.
        expect((await board.retention.collect({ before, limit: 10, dryRun: true })).tasks).toEqual([]);
      });

      it('a pass in batches of one takes each task once, in the order they were archived, resuming where the last batch ended', async () => {
        const ids = [];
        for (let i = 0; i < 3; i++) {
          ids.push(await withHistory(`t${i}`));
          clock.advance(1_000);
        }
        clock.advance(31 * DAY);
        const { dryTaken, taken } = await passInBatchesOfOne(clock.now() - 30 * DAY);
        expect(dryTaken).toEqual(ids);
        expect(taken).toEqual(ids);
      });

      it('tasks archived in the same millisecond: a pass in batches of one still takes each once, dry or not', async () => {
        const ids = [];
        for (let i = 0; i < 3; i++) {
          const { task } = await board.transitions.create({ title: `same moment ${i}` });
          await h.force(task.id, { status: 'done' });
          ids.push(task.id);
        }
        for (const id of ids) await board.transitions.archive(id); // the clock does not move
        clock.advance(31 * DAY);
        const { dryTaken, taken } = await passInBatchesOfOne(clock.now() - 30 * DAY);
        expect([...dryTaken].sort()).toEqual([...ids].sort());
        expect(taken).toEqual(dryTaken);
      });

      it('a task taken out of the archive and archived again has its new history removed in its turn', async () => {
        const id = await withHistory('comes back');
        clock.advance(31 * DAY);
        await board.retention.collect({ before: clock.now() - 30 * DAY, limit: 10 });
        await board.transitions.reopen(id);
        await board.transitions.comment(id, 'wanted again');
        await h.force(id, { status: 'done' });
        await board.transitions.archive(id);
        expect((await board.retention.collect({ before: clock.now() - 30 * DAY, limit: 10 })).tasks).toEqual([]);
        clock.advance(31 * DAY);
        const again = await board.retention.collect({ before: clock.now() - 30 * DAY, limit: 10 });
        expect(again).toMatchObject({ tasks: [{ id }], comments: 1 });
        expect(await board.tasks.comments(id)).toEqual([]);
      });

      it('names the tasks whose history a pass removed and that stayed archived since: not one taken back out, not one never collected', async () => {
        const [kept, back, edited] = [await withHistory('kept'), await withHistory('taken back'), await withHistory('edited after')];
        clock.advance(31 * DAY);
        await board.retention.collect({ before: clock.now() - 30 * DAY, limit: 10 });
        const never = await withHistory('archived lately');
        const { task: open } = await board.transitions.create({ title: 'open' });
        await board.transitions.reopen(back);
        clock.advance(1_000);
        await board.transitions.edit(edited, { title: 'edited after, archived' }); // archived, but changed since its history went
        const ids = [kept, back, edited, never, open.id, 't_00000000'];
        expect((await board.retention.collectedTasks(ids)).map((t) => t.id)).toEqual([kept]);
        expect(await board.retention.collectedTasks([kept])).toEqual([{ id: kept, workspace_kind: 'scratch', workspace_path: null }]);
        expect(await board.retention.collectedTasks([])).toEqual([]);
      });

      it('archives done tasks completed before the limit (event archived, source gc), oldest first, in batches; a dry run writes nothing', async () => {
        const old = [];
        for (let i = 0; i < 3; i++) {
          const { task } = await board.transitions.create({ title: `done ${i}` });
          await board.transitions.complete(task.id, 'ok');
          old.push(task.id);
          clock.advance(1_000);
        }
        clock.advance(20 * DAY);
        const { task: fresh } = await board.transitions.create({ title: 'just done' });
        await board.transitions.complete(fresh.id, 'ok');
        const before = clock.now() - 14 * DAY;
        const snapshot = await h.snapshot();
        const first = await board.retention.archiveDone({ before, limit: 2, dryRun: true });
        const second = await board.retention.archiveDone({ before, limit: 2, after: first.next, dryRun: true });
        expect([...first.ids, ...second.ids]).toEqual(old);
        expect(second.next).toBeNull();
        expect(await h.snapshot()).toEqual(snapshot);
        expect((await board.retention.archiveDone({ before, limit: 2 })).ids).toEqual(old.slice(0, 2));
        expect((await board.retention.archiveDone({ before, limit: 2 })).ids).toEqual(old.slice(2));
        for (const id of old) {
          expect((await board.tasks.get(id)).status).toBe('archived');
          expect((await board.tasks.events(id)).at(-1)).toMatchObject({ kind: 'archived', payload: { from: 'done', source: 'gc' } });
        }
        expect((await board.tasks.get(fresh.id)).status).toBe('done');
      });
    });

    describe('links', () => {
      it('a child waits in todo for its parent, is promoted when it is done, and a cycle is refused', async () => {
        const { task: parent } = await board.transitions.create({ title: 'parent' });
        const { task: child } = await board.transitions.create({ title: 'child', parents: [parent.id] });
        expect(child.status).toBe('todo');
        expect(await board.tasks.parents(child.id)).toEqual([parent.id]);
        expect(await board.tasks.children(parent.id)).toEqual([child.id]);
        const before = await h.snapshot();
        await expect(board.transitions.link(child.id, parent.id)).rejects.toThrow(/cycle/);
        expect(await h.snapshot()).toEqual(before);
        await board.transitions.complete(parent.id);
        expect((await board.tasks.get(child.id)).status).toBe('ready');
        await board.transitions.unlink(parent.id, child.id);
        expect(await board.tasks.parents(child.id)).toEqual([]);
      });
    });

    describe('windows', () => {
      it('counts per status, a window of a column in its order, and where a task sits in it', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 7; i++) {
          ids.push((await board.transitions.create({ title: `card ${i}`, priority: i % 3 })).task.id);
          clock.advance(1_000);
        }
        await board.transitions.block(ids[6]!);
        const counts = await board.windows.counts();
        expect(counts).toMatchObject({ ready: 6, blocked: 1, running: 0 });
        const whole = await board.windows.window('ready', 0, 100);
        expect(whole).toHaveLength(6);
        const page = await board.windows.window('ready', 2, 2);
        expect(page.map((c) => c.id)).toEqual(whole.slice(2, 4).map((c) => c.id));
        for (const [index, card] of whole.entries()) expect(await board.windows.position('ready', card.id)).toBe(index);
        expect(await board.windows.position('ready', ids[6]!)).toBeNull();
        expect((await board.windows.counts('card 1')).ready).toBe(1);
      });
    });
  });
}
