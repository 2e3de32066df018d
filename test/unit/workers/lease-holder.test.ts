import { describe, expect, it } from 'vitest';
import { monotonicMs, systemClock } from '../../../src/clock.js';
import type { RunIdentity } from '../../../src/core/run.js';
import type { BoardStore } from '../../../src/port/board.js';
import { SqliteBoard } from '../../../src/store/sqlite-board.js';
import { LeaseHolder, type LeaseLoss } from '../../../src/workers/lease-holder.js';
import { testStore } from '../../helpers/board.js';
import { until, waitFor } from '../../helpers/workers.js';

/**
 * The lease a shared board's supervisor holds for its run: renewed while the run is heard from, and
 * the worker stopped (onLost) before the lease could run out unrenewed, whatever the reason. On a real
 * board, with real time: a lease of 3 s, so the holder renews every second.
 */
const LEASE_MS = 3000;
const MARGIN_MS = 500;

async function running(maxStaleMs = 60_000) {
  const board = new SqliteBoard(testStore(systemClock));
  const id = (await board.transitions.create({ title: 'held' })).task.id;
  const claimSentAt = monotonicMs(); // the lease was set no earlier than this (the holder's clock)
  const claim = await board.lease.claim(id, { profile: null, leaseMs: LEASE_MS });
  if (!claim.claimed) throw new Error(claim.reason);
  const lost: Array<{ why: LeaseLoss; at: number; claimExpires: number | null }> = [];
  const hold = (board_: BoardStore = board) =>
    new LeaseHolder(board_, claim.identity, { leaseMs: LEASE_MS, maxStaleMs, marginMs: MARGIN_MS }, (why) => {
      lost.push({ why, at: Date.now(), claimExpires: null });
    }, () => undefined, claimSentAt);
  return { board, identity: claim.identity, lost, hold };
}

const renewals = async (board: BoardStore, identity: RunIdentity) => (await board.tasks.events(identity.taskId)).filter((e) => e.kind === 'claim_extended' && e.payload.source === 'supervisor');

describe('LeaseHolder', () => {
  it('renews a run that is heard from: after two leases it still holds it, renewed by the supervisor', async () => {
    const { board, identity, lost, hold } = await running();
    const holder = hold();
    const until = Date.now() + 2 * LEASE_MS;
    while (Date.now() < until) {
      await board.lease.heartbeat(identity, { source: 'worker' });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    holder.close();
    expect(lost).toEqual([]);
    expect((await renewals(board, identity)).length).toBeGreaterThanOrEqual(2);
    expect((await board.tasks.get(identity.taskId)).claim_expires!).toBeGreaterThan(Date.now());
  });

  it('a silent run is not renewed: the worker is stopped (silent) before its lease runs out', async () => {
    const { board, identity, lost, hold } = await running(100);
    await new Promise((resolve) => setTimeout(resolve, 200)); // silent past its 100 ms
    const holder = hold();
    await waitFor('the holder to give up', () => lost.length > 0, 10_000, 10);
    holder.close();
    expect(lost.map((l) => l.why)).toEqual(['silent']);
    const task = await board.tasks.get(identity.taskId);
    expect(task.status).toBe('running'); // left to the dispatchers, which may take it back once it has run out
    expect(lost[0]!.at).toBeLessThan(task.claim_expires!); // stopped before any host may see it expired
    expect(await renewals(board, identity)).toEqual([]);
  });

  it('a run taken back: the next renewal is refused and the worker stopped (taken back)', async () => {
    const { board, identity, lost, hold } = await running();
    const holder = hold();
    await board.lease.release(identity, { outcome: 'reclaimed', payload: {} });
    await waitFor('the holder to give up', () => lost.length > 0, 10_000, 10);
    holder.close();
    expect(lost.map((l) => l.why)).toEqual(['taken back']);
  });

  it('no renewal gets through (the board out of reach): stopped (unreachable) before the lease could run out', async () => {
    const { board, identity, lost, hold } = await running();
    const before = (await board.tasks.get(identity.taskId)).claim_expires!;
    const unreachable = { ...board, lease: { ...board.lease, renew: () => new Promise<never>(() => undefined) } } as unknown as BoardStore; // hangs, as a partitioned connection does
    const holder = hold(unreachable);
    await waitFor('the holder to give up', () => lost.length > 0, 10_000, 10);
    holder.close();
    expect(lost.map((l) => l.why)).toEqual(['unreachable']);
    expect(lost[0]!.at).toBeLessThanOrEqual(before - MARGIN_MS + 50);
  });

  it('while the exit is recorded (recordingExit), a run silent past MAX_STALE is still renewed, at once and then every third of the lease', async () => {
    const { board, identity, lost, hold } = await running(100);
    const holder = hold();
    await new Promise((resolve) => setTimeout(resolve, 300)); // silent past its 100 ms: a renewal now would be refused
    const from = Date.now();
    holder.recordingExit();
    await until('a renewal after the worker ended', async () => (await renewals(board, identity)).some((e) => e.created_at >= from), 10_000, 20);
    await new Promise((resolve) => setTimeout(resolve, 2 * LEASE_MS));
    holder.close();
    expect(lost).toEqual([]);
    expect((await renewals(board, identity)).filter((e) => e.created_at >= from).length).toBeGreaterThanOrEqual(3);
    expect((await board.tasks.get(identity.taskId)).claim_expires!).toBeGreaterThan(Date.now());
  });

  it('while the exit is recorded, renewals that fail for longer than the lease are tried again: nothing to stop, the run is not given up', async () => {
    const { board, identity, lost } = await running();
    let failing = true;
    const notes: string[] = [];
    const flaky = { ...board, lease: { ...board.lease, renew: (...args: Parameters<BoardStore['lease']['renew']>) => (failing ? Promise.reject(new Error('server busy')) : board.lease.renew(...args)) } } as unknown as BoardStore;
    const holder = new LeaseHolder(flaky, identity, { leaseMs: LEASE_MS, maxStaleMs: 60_000, marginMs: MARGIN_MS }, (why) => lost.push({ why, at: Date.now(), claimExpires: null }), (line) => notes.push(line), monotonicMs());
    holder.recordingExit();
    await new Promise((resolve) => setTimeout(resolve, 2 * LEASE_MS)); // past the deadline a worker would have had
    expect(lost).toEqual([]);
    const from = Date.now();
    failing = false;
    await until('a renewal once the board answers again', async () => (await renewals(board, identity)).some((e) => e.created_at >= from), 10_000, 20);
    holder.close();
    expect(lost).toEqual([]);
    expect(notes.length).toBeGreaterThanOrEqual(3);
    expect(notes.length).toBeLessThanOrEqual(4); // the first three failures in a row, then one in 20
  });
});
