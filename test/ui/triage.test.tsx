import { describe, expect, it } from 'vitest';
import { claimTask } from '../../src/store/lease.js';
import { blockTask } from '../../src/store/lifecycle.js';
import { getTask } from '../../src/store/tasks.js';
import { KEY, setup } from './mount.js';
import { run, taskAt } from '../helpers/history.js';
import { waitFor } from '../helpers/workers.js';
import { forceTask } from '../helpers/board.js';

const HOUR = 3_600_000;
/** Wide enough that the diagnostics list and every column's marks are on screen. */
const wide = () => setup({ columns: 220 });

describe('diagnostics on the board', () => {
  it('flags cards with a marker and counts what needs attention in the header', async () => {
    const { store, clock, make, open } = wide();
    const stuck = make('Stuck for days');
    blockTask(store, stuck, 'waiting on legal');
    const healthy = make('Healthy', { assignee: 'coder' });
    const waiting = make('Waits on its parent', { parents: [healthy] }); // listed by D, but a normal wait: not counted, not marked
    clock.advance(25 * HOUR);
    const app = await open();
    await app.press('j'); // let the background diagnostics land
    expect(app.frame()).toContain('1 needs attention (D)');
    expect(app.frame().split('\n').find((l) => l.includes(waiting))).not.toMatch(new RegExp(`● *${waiting}`));
    const line = app.frame().split('\n').find((l) => l.includes(stuck))!;
    expect(line).toMatch(new RegExp(`● *${stuck}`));
    expect(app.frame().split('\n').find((l) => l.includes('Healthy'))).not.toContain('●');
  });

  it('D lists findings most severe first; Enter goes to the card; the fix key works from the list', async () => {
    const { store, clock, make, open } = wide();
    const ghost = make('Ghost');
    forceTask(store, ghost, { status: 'running' });
    const stuck = make('Stuck');
    blockTask(store, stuck);
    clock.advance(25 * HOUR);
    const app = await open();
    await app.press('D');
    const lines = app.frame().split('\n');
    expect(lines.findIndex((l) => l.includes('ghost_running'))).toBeLessThan(lines.findIndex((l) => l.includes('stuck_blocked')));
    expect(app.frame()).toContain('2 findings, most severe first');
    expect(app.frame()).toMatch(/critical .*ghost_running: running without a claim lock.*fix: r \(kanban reclaim/);
    await app.press('j', KEY.enter);
    expect(app.frame()).not.toContain('most severe first');
    expect(app.selected()).toContain('Stuck');
    await app.press('D', 'r'); // the fix key of the first finding (reclaim the ghost), from the list
    expect(getTask(store, ghost).status).toBe('ready');
    expect(app.frame()).toContain(`reclaimed ${ghost} → ready`);
    await app.press(KEY.escape);
    expect(app.frame()).not.toContain('most severe first');
  });

  it('D says so when nothing needs attention', async () => {
    const { open } = wide();
    const app = await open();
    await app.press('D');
    expect(app.frame()).toContain('Nothing needs attention.');
  });
});

describe('marks and actions on several cards', () => {
  it('v marks and unmarks; u then acts on every marked card and reports per card', async () => {
    const { store, make, open } = wide();
    const a = make('Blocked A', { status: 'blocked' });
    const b = make('Blocked B', { status: 'blocked' });
    const ready = make('Ready C');
    const app = await open();
    await app.press('v'); // Ready C (the ready column is where the board opens)
    expect(app.frame()).toContain('1 marked');
    await app.press('l', 'l', 'v', 'j', 'v', 'v', 'v');
    expect(app.frame()).toContain('3 marked');
    expect(app.frame()).toMatch(/3 marked · r u p s x X act on all of them/);
    await app.press('u');
    expect(app.frame()).toContain(`2 unblocked, 1 refused: cannot unblock ${ready}: it is ready`);
    expect(getTask(store, a).status).toBe('ready');
    expect(getTask(store, b).status).toBe('ready');
    expect(app.frame()).not.toContain('marked');
  });

  it('x asks once for all marked cards, then completes each', async () => {
    const { store, make, open } = wide();
    const ids = [make('One'), make('Two'), make('Three')];
    const app = await open();
    await app.press('v', 'j', 'v', 'j', 'v', 'x');
    expect(app.frame()).toContain('complete 3 marked tasks? (y/n)');
    await app.press('y');
    expect(ids.map((id) => getTask(store, id).status)).toEqual(['done', 'done', 'done']);
    expect(app.frame()).toContain('3 completed');
  });

  it('s asks once and schedules every marked card; r reclaims every marked running card', async () => {
    const { store, clock, make, open } = wide();
    const later = [make('Later 1'), make('Later 2')];
    const running = [make('Run 1'), make('Run 2')];
    for (const id of running) claimTask(store, id, { profile: 'coder', leaseMs: 60_000 });
    const app = await open();
    await app.press('v', 'j', 'v', 's', '2h', KEY.enter);
    expect(later.map((id) => getTask(store, id))).toEqual(later.map(() => expect.objectContaining({ status: 'scheduled', scheduled_until: clock.now() + 2 * HOUR })));
    await app.press('l', 'v', 'j', 'v', 'r');
    expect(running.map((id) => getTask(store, id).status)).toEqual(['ready', 'ready']);
    expect(app.frame()).toContain('2 reclaimed');
  });

  it('Esc clears the marks without acting', async () => {
    const { store, make, open } = wide();
    const marked = make('Marked');
    const other = make('Other');
    const app = await open();
    await app.press('v', KEY.escape);
    expect(app.frame()).toContain('marks cleared');
    expect(app.frame()).not.toMatch(/\d+ marked/);
    await app.press('j', 'x', 'y');
    expect(getTask(store, other).status).toBe('done'); // x acted on the card under the cursor only
    expect(getTask(store, marked).status).toBe('ready');
  });
});

describe('the stats view', () => {
  it('S draws the history as pictures: completions per hour, each profile a bar by outcome, the slowest tasks; any key closes it', async () => {
    const { store, clock, open } = wide();
    const start = clock.now();
    const HOUR_MS = 3_600_000;
    for (let h = 0; h < 6; h++) {
      const id = taskAt(store, clock, start + h * HOUR_MS, `Job ${h}`);
      run(store, clock, id, 'coder', start + h * HOUR_MS, start + h * HOUR_MS + (h + 1) * 60_000, h === 2 ? 'crashed' : 'completed');
      if (h === 2) run(store, clock, id, 'coder', start + h * HOUR_MS + 10 * 60_000, start + h * HOUR_MS + 20 * 60_000, 'completed');
    }
    const limited = taskAt(store, clock, start + 6 * HOUR_MS, 'Limited');
    run(store, clock, limited, 'reviewer', start + 6 * HOUR_MS, start + 6 * HOUR_MS + 1000, { rateLimitedFor: 300_000 });
    clock.set(start + 7 * HOUR_MS);
    const app = await open();
    await app.press('S');
    await waitFor('the stats', () => app.frame().includes('completions per hour, last 24 h: 6 in all'), 5000, 10);
    const frame = app.frame();
    expect(frame).toMatch(/[▁▂▃▄▅▆▇█]{20,}/); // the sparkline
    expect(frame).toMatch(/coder +█+ +7 runs · /);
    expect(frame).toMatch(/reviewer +█+ +1 run · /);
    expect(frame).toContain('█ completed');
    expect(frame).toContain('█ crashed');
    expect(frame).toContain('time lost to rate limits: 5m in the last 24 h');
    expect(frame).toMatch(/slowest tasks[\s\S]*Job 5/);
    await app.press('z');
    expect(app.frame()).not.toContain('completions per hour');
  });
});
