import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { claimHost } from '../../../src/core/run.js';
import { Killer } from '../../../src/dispatcher/processes.js';
import { dispatchOnce, type TickOptions } from '../../../src/dispatcher/tick.js';
import { resolveSettings } from '../../../src/settings.js';
import { SqliteBoard } from '../../../src/store/sqlite-board.js';
import { manualClock, testStore } from '../../helpers/board.js';

/**
 * The hosts step: each tick says its host is alive in the board's time, and a host whose boot changed
 * takes back its runs at once (their processes died with the machine), without counting them.
 */
const config = parseConfig(JSON.stringify({ profiles: { coder: { command: ['agent'] } } }), 'test.yaml');
const settings = resolveSettings(config, { KANBAN_CLAIM_TTL_SECONDS: '600', KANBAN_CRASH_GRACE_SECONDS: '30', KANBAN_MAX_IN_PROGRESS: '0' });

function world() {
  const clock = manualClock();
  const board = new SqliteBoard(testStore(clock));
  const tick = (host: string, bootId: string, more: TickOptions = {}) =>
    dispatchOnce(board, config, clock, { settings, host, machine: { name: `machine ${host}`, bootId }, killer: new Killer(0), isRunProcess: () => true, launch: () => 1, ...more });
  return { clock, board, tick };
}

describe('hosts', () => {
  it('a tick says its host is alive, in the board time; a later tick moves last_seen_at, not first_seen_at', async () => {
    const { clock, board, tick } = world();
    const started = clock.now();
    await tick('h_1', 'boot-a');
    clock.advance(5_000);
    await tick('h_1', 'boot-a');
    await tick('h_2', 'boot-z');
    const hosts = await board.hosts.list();
    expect(hosts.map((h) => h.id).sort()).toEqual(['h_1', 'h_2']);
    expect(hosts.find((h) => h.id === 'h_1')).toMatchObject({ name: 'machine h_1', boot_id: 'boot-a', first_seen_at: started, last_seen_at: started + 5_000, booted_at: started });
  });

  it('a host that restarted takes back its own runs at once, not counted; a dry run takes nothing', async () => {
    const { clock, board, tick } = world();
    const mine = (await board.transitions.create({ title: 'mine', assignee: 'coder' })).task.id;
    const claim = async (id: string) => {
      const result = await board.lease.claim(id, { profile: 'coder', leaseMs: 600_000 });
      if (!result.claimed) throw new Error(result.reason);
      return result.identity;
    };
    const myRun = await claim(mine);
    const here = claimHost(myRun.claimLock);
    await tick(here, 'boot-1');
    clock.advance(1_000);
    expect((await tick(here, 'boot-2', { dryRun: true })).actions).toEqual([]);
    expect((await board.tasks.get(mine)).status).toBe('running');

    const result = await tick(here, 'boot-2');
    const taken = result.actions.filter((a) => a.step === 'hosts');
    expect(taken.map((a) => [a.action, a.task_id])).toEqual([['reclaimed', mine]]);
    const after = await board.tasks.get(mine);
    expect(after).toMatchObject({ status: 'ready', consecutive_failures: 0, claim_lock: null });
    expect(await board.tasks.run(mine, myRun.runId)).toMatchObject({ status: 'ended', outcome: 'reclaimed' });
    const event = (await board.tasks.events(mine)).find((e) => e.kind === 'reclaimed')!;
    expect(event.payload).toMatchObject({ detail: 'its host machine ' + here + ' restarted', previous_boot_id: 'boot-1', boot_id: 'boot-2' });
    // The next tick on the same boot takes nothing back.
    expect((await tick(here, 'boot-2')).actions.filter((a) => a.step === 'hosts')).toEqual([]);
  });

  it("another host's runs are never taken back by this host's restart", async () => {
    const { board, tick } = world();
    const id = (await board.transitions.create({ title: 'elsewhere', assignee: 'coder' })).task.id;
    const result = await board.lease.claim(id, { profile: 'coder', leaseMs: 600_000 });
    if (!result.claimed) throw new Error(result.reason);
    await tick('h_other', 'boot-1');
    const restarted = await tick('h_other', 'boot-2');
    expect(restarted.actions.filter((a) => a.step === 'hosts')).toEqual([]);
    expect((await board.tasks.get(id)).status).toBe('running');
  });
});
