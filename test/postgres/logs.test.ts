import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { Refused } from '../../src/errors.js';
import { SHIPPED_LOG_MAX_BYTES } from '../../src/port/board.js';
import { LogShipper } from '../../src/workers/log-shipper.js';
import { manualClock } from '../helpers/board.js';
import { openPg } from './factory.js';

/** A shared board keeps each run's latest output, shipped by its supervisor, for every host to read. */
const server = inject('postgresUrl');
const skip = server === null && process.env.CI !== 'true';

describe.skipIf(skip)(`shipped logs on PostgreSQL${skip ? ' (skipped: no PostgreSQL here)' : ''}`, () => {
  beforeAll(() => {
    expect(server, 'no PostgreSQL for the run: install postgresql (Debian) or set KANBAN_TEST_POSTGRES_URL').not.toBeNull();
  });
  const closing: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closing.splice(0)) await close();
  });

  async function runningTask() {
    const h = await openPg(server!, manualClock());
    closing.push(() => h.close());
    const id = (await h.board.transitions.create({ title: 'talks' })).task.id;
    const claim = await h.board.lease.claim(id, { profile: null, leaseMs: 60_000 });
    if (!claim.claimed) throw new Error(claim.reason);
    return { board: h.board, identity: claim.identity, id };
  }

  it('lines shipped in pieces read back whole and in order, from a given piece on; a run not this identity is refused', async () => {
    const { board, identity, id } = await runningTask();
    const shipper = new LogShipper(board, identity);
    const lines = Array.from({ length: 3000 }, (_, i) => `line ${i} ${'x'.repeat(40)}\n`);
    for (const line of lines) shipper.push(Buffer.from(line));
    await shipper.close();
    const all = await board.logs.since(id, 0, 10 * SHIPPED_LOG_MAX_BYTES);
    expect(all.map((p) => p.text).join('')).toBe(lines.join(''));
    expect(all.length).toBeGreaterThan(1); // shipped in pieces of at most 64 KiB
    const rest = await board.logs.since(id, all[0]!.id, 10 * SHIPPED_LOG_MAX_BYTES);
    expect(rest.map((p) => p.id)).toEqual(all.slice(1).map((p) => p.id));
    await expect(board.logs.ship({ ...identity, claimLock: 'h_other:1:forged' }, 'not mine\n')).rejects.toBeInstanceOf(Refused);
  });

  it("keeps only the latest SHIPPED_LOG_MAX_BYTES of a run's output; tail reads the newest pieces", async () => {
    const { board, identity, id } = await runningTask();
    const piece = `${'y'.repeat(64 * 1024 - 10)}\n`;
    for (let i = 0; i < 24; i++) await board.logs.ship(identity, `${String(i).padStart(8, '0')}${piece}`); // 1.5 MiB
    const kept = await board.logs.since(id, 0, 10 * SHIPPED_LOG_MAX_BYTES);
    const bytes = kept.reduce((sum, p) => sum + Buffer.byteLength(p.text), 0);
    expect(bytes).toBeLessThanOrEqual(SHIPPED_LOG_MAX_BYTES);
    expect(bytes).toBeGreaterThan(SHIPPED_LOG_MAX_BYTES - 2 * piece.length);
    expect(kept.at(-1)!.text.startsWith('00000023')).toBe(true); // the newest kept, the oldest dropped
    expect(kept[0]!.text.startsWith('00000000')).toBe(false);
    const tail = await board.logs.tail(id, 100 * 1024);
    expect(tail.map((p) => p.text.slice(0, 8))).toEqual(['00000022', '00000023']);
  });
});
