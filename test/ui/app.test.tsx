import { describe, expect, it } from 'vitest';
import { claimTask, recordExit, reviewRun } from '../../src/store/lease.js';
import { blockTask, completeTask, scheduleTask } from '../../src/store/lifecycle.js';
import { createTask, getTask, listTasks, showTask } from '../../src/store/tasks.js';
import { waitFor } from '../helpers/workers.js';
import { cardsPerColumn } from '../../src/ui/layout.js';
import { helpRows, Keymap } from '../../src/ui/commands.js';
import { parseConfig } from '../../src/config.js';
import { claimOrFail, dumpBoard, forceTask } from '../helpers/board.js';
import { runById } from '../../src/store/runs.js';
import { KEY, setup } from './mount.js';
import { slowViews } from '../helpers/slow-views.js';
import { recordEvent } from '../../src/store/events.js';


describe('the board', () => {
  it('shows a column per status with its count, the header and the footer', async () => {
    const { make, open } = setup();
    make('Alpha');
    make('Beta');
    make('Idea', { triage: true });
    const app = await open();
    const frame = app.frame();
    expect(frame).toMatch(/^kanban · test-board {2}│ {2}dispatcher running {2}│ {2}workers 0\/4/);
    // Every column is on screen: those with cards in full, empty ones as their short name over the count.
    expect(frame).toContain('TRIAGE 1');
    expect(frame).toContain('READY 2');
    for (const short of ['TODO', 'RUN', 'BLK', 'SCHD', 'REV', 'DONE']) expect(frame).toContain(short);
    expect(frame).not.toContain('◀');
    expect(frame).toContain('press ? for help');
    expect(frame).toMatch(/s schedule · b block · a assign · x complete · X archive · \? help · q quit · c create/);
    expect(frame.split('\n')).toHaveLength(29); // one row short of the terminal
  });

  it('←→ h l move between columns, ↑↓ j k between cards, g G to the ends', async () => {
    const { make, open } = setup();
    for (const title of ['One', 'Two', 'Three', 'Four']) make(title);
    make('Waiting', { status: 'todo' });
    const app = await open();
    expect(app.selected()).toContain('One');
    await app.press('j');
    expect(app.selected()).toContain('Two');
    await app.press(KEY.down, KEY.down);
    expect(app.selected()).toContain('Four');
    await app.press('j'); // at the end: stays
    expect(app.selected()).toContain('Four');
    await app.press('k', KEY.up);
    expect(app.selected()).toContain('Two');
    await app.press('G');
    expect(app.selected()).toContain('Four');
    await app.press('g');
    expect(app.selected()).toContain('One');
    await app.press('h');
    expect(app.selected()).toContain('Waiting');
    await app.press(KEY.right);
    expect(app.selected()).toContain('One');
    await app.press('l', KEY.left);
    expect(app.selected()).toContain('One');
  });

  it('Enter opens the drawer on the selected card; Esc closes it', async () => {
    const { make, open } = setup();
    make('Explained', { body: 'Line one of the body\nline two' });
    const app = await open();
    await app.press(KEY.enter);
    expect(app.frame()).toContain('Line one of the body');
    expect(app.frame()).toContain('runs (0)');
    await app.press(KEY.escape);
    expect(app.frame()).not.toContain('Line one of the body');
    expect(app.frame()).toContain('READY 1');
  });

  it('r reclaims a running task', async () => {
    const { store, make, open } = setup();
    const id = make('Running');
    claimTask(store, id, { profile: 'coder', leaseMs: 60_000 });
    const app = await open();
    await app.press('l', 'r');
    expect(app.frame()).toContain(`reclaimed ${id} → ready`);
    expect(getTask(store, id)).toMatchObject({ status: 'ready', claim_lock: null });
  });

  it('u unblocks, and a refusal is a status line, not a crash', async () => {
    const { store, make, open } = setup();
    const id = make('Stuck', { status: 'blocked' });
    const ready = make('Fine');
    const app = await open();
    await app.press('u');
    expect(app.frame()).toContain(`refused: u unblock is for blocked or scheduled tasks; ${ready} is ready`);
    await app.press('l', 'l', 'u');
    expect(app.frame()).toContain(`unblocked ${id} → ready`);
    expect(getTask(store, id).status).toBe('ready');
  });

  it('o reopens a done task (back to ready); on an open one it is refused', async () => {
    const { store, make, open } = setup();
    const ready = make('Fine');
    const shipped = make('Shipped');
    completeTask(store, shipped);
    const app = await open();
    await app.press('o');
    expect(app.frame()).toContain(`refused: o reopen is for done or archived tasks; ${ready} is ready`);
    await app.press('l', 'l', 'l', 'l', 'l', 'o'); // ready → running, blocked, scheduled, review, done
    expect(app.frame()).toContain(`reopened ${shipped} → ready`);
    expect(getTask(store, shipped).status).toBe('ready');
  });

  it('p promotes; P asks, then forces past an unfinished parent', async () => {
    const { store, make, open } = setup();
    const parent = make('Parent');
    const child = make('Child', { parents: [parent] });
    const app = await open();
    await app.press('h', 'p');
    expect(app.frame()).toContain(`refused: cannot promote ${child}: parent ${parent} is not done (ready)`);
    await app.press('P');
    expect(app.frame()).toContain(`promote ${child} past its unfinished parents? (y/n)`);
    await app.press('n');
    expect(getTask(store, child).status).toBe('todo');
    await app.press('P', 'y');
    expect(app.frame()).toContain(`promoted ${child} → ready (forced)`);
    expect(getTask(store, child).status).toBe('ready');
  });

  it('s schedules for a duration or a time, and a bad one is an error line', async () => {
    const { store, clock, make, open } = setup();
    const id = make('Later');
    const app = await open();
    await app.press('s', 'soonish', KEY.enter);
    expect(app.frame()).toMatch(/error: invalid time 'soonish'/);
    await app.press('s', '90m', KEY.enter);
    expect(getTask(store, id)).toMatchObject({ status: 'scheduled', scheduled_until: clock.now() + 90 * 60_000 });
  });

  it('b blocks with the reason typed, backspace included', async () => {
    const { store, make, open } = setup();
    const id = make('Blockable');
    const app = await open();
    await app.press('b', 'need keyz', KEY.backspace, 's', KEY.enter);
    expect(getTask(store, id)).toMatchObject({ status: 'blocked', status_reason: 'need keys' });
    expect(app.frame()).toContain(`blocked ${id}`);
  });

  it('b on a running card asks why, then stops its run (blocked, not counted) and blocks it', async () => {
    const { store, make, open } = setup();
    const id = make('Running');
    const { identity } = claimOrFail(store, id, { profile: 'coder', leaseMs: 60_000 });
    const app = await open();
    await app.press('l', 'b');
    expect(app.frame()).toContain(`block ${id} because:`);
    await app.press('wrong approach', KEY.enter);
    expect(app.frame()).toContain(`blocked ${id}`);
    expect(getTask(store, id)).toMatchObject({ status: 'blocked', status_reason: 'wrong approach', consecutive_failures: 0, claim_lock: null });
    expect(runById(store, id, identity.runId)).toMatchObject({ status: 'ended', outcome: 'blocked', summary: 'wrong approach' });
  });

  it('y approves a card in review; n asks what to fix, then sends it back with that as a reviewer comment', async () => {
    const { store, make, open } = setup();
    const toReview = (title: string) => {
      const id = make(title);
      reviewRun(store, claimOrFail(store, id, { profile: 'coder', leaseMs: 60_000 }).identity, `${title}: done`);
      return id;
    };
    const good = toReview('Good work');
    const app = await open();
    await app.press('l', 'l', 'l', 'l');
    await app.press('y');
    expect(app.frame()).toContain(`approved ${good} → done`);
    expect(getTask(store, good)).toMatchObject({ status: 'done', summary: 'Good work: done' });

    const rework = toReview('Needs work');
    await app.press('h', 'l'); // any re-render: the board re-reads
    await app.press('n');
    expect(app.frame()).toContain(`what should change in ${rework}?`);
    await app.press('handle the empty input', KEY.enter);
    expect(app.frame()).toContain(`changes requested on ${rework} → ready`);
    expect(getTask(store, rework).status).toBe('ready');
    expect(showTask(store, rework).comments).toMatchObject([{ author: 'reviewer', body: 'handle the empty input' }]);
  });

  it('a config edit that does not validate stays on the status line until it is fixed', async () => {
    let problem: string | null = null;
    const { open } = setup({ configProblem: () => problem });
    const app = await open();
    const tick = () => app.handle.changed(); // what the loop does after each tick
    problem = 'invalid config c.yaml: profiles.coder.agent: bad (keeping the previous config)';
    tick();
    await waitFor('the problem shown', () => app.frame().includes('profiles.coder.agent: bad (keeping the previous config)'), 5000, 10);
    tick();
    await app.settle(); // the frame after the next tick
    expect(app.frame()).toContain('keeping the previous config'); // still there after the next tick
    problem = null;
    tick();
    await waitFor('the problem gone', () => !app.frame().includes('keeping the previous config'), 5000, 10);
  });

  it('--bell: the bell rings when another process or the dispatcher blocks a task or sends one to review, not for the board’s own keys', async () => {
    let rings = 0;
    const { store, make, open } = setup({ bell: () => rings++ });
    const elsewhere = make('Blocked elsewhere');
    const mine = make('Blocked here');
    const app = await open();
    blockTask(store, elsewhere, 'by another process');
    app.handle.changed(); // a tick: the board reads again
    await waitFor('the bell', () => rings === 1, 5000, 10);
    await app.press('b', 'my reason', KEY.enter);
    expect(getTask(store, mine).status).toBe('blocked');
    app.handle.changed();
    await app.settle();
    expect(rings).toBe(1);
  });

  it('e edits the title and body in $EDITOR (the first line is the title); an unchanged text or a failed editor changes nothing', async () => {
    let answer: string | null = 'Better title\n\nA body\nof two lines\n';
    const seen: string[] = [];
    const { store, make, open } = setup({ edit: (text) => (seen.push(text), answer) });
    const id = make('Old title', { body: 'old body' });
    const app = await open();
    await app.press('e');
    expect(seen).toEqual(['Old title\n\nold body']);
    expect(getTask(store, id)).toMatchObject({ title: 'Better title', body: 'A body\nof two lines' });
    expect(app.frame()).toContain(`edited ${id}`);
    answer = null;
    await app.press('e');
    expect(app.frame()).toContain('the editor failed: nothing changed');
    answer = 'Better title\n\nA body\nof two lines';
    await app.press('e');
    expect(app.frame()).toContain(`${id}: no change`);
  });

  it('Y copies the task id; O orders the column newest first, oldest, by title, then its own; :link and :unlink', async () => {
    const copied: string[] = [];
    const { store, make, open } = setup({ copy: (text) => copied.push(text) });
    const b = make('Bravo');
    const a = make('alpha');
    const c = make('Charlie', { priority: 5 });
    const app = await open();
    await app.press('Y');
    expect(copied).toEqual([c]); // the highest priority first: the column's own order
    const order = () => app.frame().split('\n').flatMap((l) => l.match(/\b(alpha|Bravo|Charlie)\b/g) ?? []);
    expect(order()).toEqual(['Charlie', 'Bravo', 'alpha']);
    await app.press('O');
    expect(app.frame()).toContain('READY 3 ↕newest');
    expect(order()).toEqual(['Charlie', 'alpha', 'Bravo']);
    await app.press('O');
    expect(order()).toEqual(['Bravo', 'alpha', 'Charlie']);
    await app.press('O');
    expect(order()).toEqual(['alpha', 'Bravo', 'Charlie']);
    await app.press('O');
    expect(app.frame()).toContain('READY 3 ');
    expect(app.frame()).not.toContain('↕');
    await app.press(':', `link ${b}`, KEY.enter); // the selected card (Charlie) waits on Bravo
    expect(getTask(store, c).parents).toEqual([b]);
    expect(getTask(store, c).status).toBe('todo');
    await app.press(':', c, KEY.enter); // it went to todo: jump to it
    await app.press(':', `unlink ${b}`, KEY.enter);
    expect(getTask(store, c).parents).toEqual([]);
    expect(getTask(store, c).status).toBe('ready');
    void a;
  });

  it('X archives (A shows it), C comments (the next run is handed it)', async () => {
    const { store, make, open } = setup();
    const id = make('Shelve me');
    const app = await open();
    await app.press('C', 'see the design doc', KEY.enter);
    expect(showTask(store, id).comments).toMatchObject([{ author: 'user', body: 'see the design doc' }]);
    expect(app.frame()).toContain(`commented on ${id}`);
    await app.press('X');
    expect(getTask(store, id).status).toBe('archived');
    expect(app.frame()).toContain(`archived ${id}`);
  });

  it('keys: from the config replace a command’s keys, in the footer and help too', async () => {
    const { store, make, open } = setup({ keymap: new Keymap(parseConfig('keys:\n  unblock: [U, ctrl+u]\n', 'k.yaml').keys) });
    const id = make('Stuck', { status: 'blocked' });
    const app = await open();
    await app.press('l', 'l'); // ready → running → blocked
    expect(app.frame()).toContain('U Ctrl-U unblock');
    await app.press('u');
    expect(getTask(store, id).status).toBe('blocked'); // u is no longer unblock
    await app.press('U');
    expect(getTask(store, id).status).toBe('ready');
    await app.press('?');
    expect(app.frame()).toMatch(/U Ctrl-U +unblock/);
  });

  it('in the drawer the card keys scroll it, by the keymap (keys: from the config too); back closes it', async () => {
    const { make, open } = setup({ keymap: new Keymap(parseConfig('keys:\n  card-down: [J]\n', 'k.yaml').keys) });
    make('Long one', { body: Array.from({ length: 40 }, (_, i) => `body line ${i}`).join('\n') });
    const app = await open();
    await app.press(KEY.enter);
    expect(app.frame()).toContain('… 34 more lines (↓ scrolls)');
    await app.press('j'); // no longer card-down: the drawer stays at the top
    expect(app.frame()).toContain('… 34 more lines (↓ scrolls)');
    await app.press('J', 'J', 'J');
    expect(app.frame()).not.toContain('more lines (↓ scrolls)'); // scrolled: the whole body
    expect(app.frame()).not.toContain('body line 0');
    expect(app.frame()).toContain('body line 3');
    await app.press('g');
    expect(app.frame()).toContain('… 34 more lines (↓ scrolls)');
    await app.press(KEY.escape);
    expect(app.frame()).toContain('READY 1');
  });

  it('b then Esc cancels and changes nothing', async () => {
    const { store, make, open } = setup();
    const id = make('Untouched');
    const app = await open();
    const before = dumpBoard(store);
    await app.press('b', 'oops', KEY.escape);
    expect(getTask(store, id).status).toBe('ready');
    expect(dumpBoard(store)).toEqual(before);
  });

  it('c creates: a title, then an optional assignee; the new card is selected', async () => {
    const { store, open } = setup();
    const app = await open();
    await app.press('c', 'Brand new', KEY.enter);
    expect(app.frame()).toContain('assignee for "Brand new" (coder; Tab completes, Enter to skip):');
    await app.press('coder', KEY.enter);
    const task = listTasks(store).find((t) => t.title === 'Brand new')!;
    expect(task).toMatchObject({ status: 'ready', assignee: 'coder' });
    expect(app.frame()).toContain(`created ${task.id} (ready)`);
    expect(app.selected()).toContain('Brand new');
  });

  it('c with an empty title creates nothing', async () => {
    const { store, open } = setup();
    const app = await open();
    await app.press('c', KEY.enter);
    expect(app.frame()).toContain('a task needs a title');
    expect(listTasks(store)).toEqual([]);
  });

  it('a assigns, and none (or nothing) unassigns', async () => {
    const { store, make, open } = setup();
    const id = make('Orphan');
    const app = await open();
    await app.press('a', 'coder', KEY.enter);
    expect(getTask(store, id).assignee).toBe('coder');
    await app.press('a', KEY.enter);
    expect(getTask(store, id).assignee).toBeNull();
    await app.press('a', 'codr', KEY.enter);
    expect(app.frame()).toContain('no profile "codr" in the config (profiles: coder)');
    expect(getTask(store, id).assignee).toBeNull();
    await app.press(KEY.backspace, 'er', KEY.enter); // the prompt stays open with what was typed
    expect(getTask(store, id).assignee).toBe('coder');
  });

  it('x completes after a confirmation; Enter does not answer it; n cancels', async () => {
    const { store, make, open } = setup();
    const id = make('Almost there');
    const app = await open();
    await app.press('x');
    expect(app.frame()).toContain(`complete ${id}? (y/n)`);
    await app.press(KEY.enter);
    expect(getTask(store, id).status).toBe('ready');
    expect(app.frame()).toContain(`complete ${id}? (y/n)`);
    expect(app.frame()).toContain('y to confirm, n or Esc to cancel');
    await app.press('n');
    expect(app.frame()).toContain('cancelled');
    expect(getTask(store, id).status).toBe('ready');
    await app.press('x', 'y');
    expect(getTask(store, id).status).toBe('done');
  });

  it('/ filters by text or assignee as you type; Enter keeps it and selects the first match; Esc clears', async () => {
    const { make, open } = setup();
    make('Fix the parser');
    make('Write docs', { assignee: 'writer' });
    make('Parse the config', { status: 'todo' });
    const app = await open();
    await app.press('/', 'pars');
    expect(app.frame()).toContain('READY 1');
    expect(app.frame()).toContain('TODO 1');
    await app.press(KEY.enter);
    expect(app.frame()).toContain('filter "pars": 2 matches');
    expect(app.selected()).toContain('Parse the config');
    await app.press('/', 'writer', KEY.enter);
    expect(app.selected()).toContain('Write docs');
    await app.press(KEY.escape);
    expect(app.frame()).toContain('READY 2');
    expect(app.frame()).toContain('filter cleared');
  });

  it('a filter typed on a board whose reads hold the screen for a while: the keys do not each wait for a read; the last one is read', async () => {
    let slow: ReturnType<typeof slowViews> | undefined;
    const { make, open } = setup({ board: (board) => (slow = slowViews(board, 150, 'holding')).board });
    make('Fix the parser');
    make('Parse the config', { status: 'todo' });
    make('Write docs');
    const app = await open();
    slow!.filters.length = 0;
    await app.press('/', 'parse the c');
    await waitFor('the filter read once the typing paused', () => app.frame().includes('READY 0'), 10_000, 10);
    expect(app.frame()).toContain('TODO 1');
    // The first key's read, then (once it shows reads are slow) one when the typing pauses: not one per key.
    expect(slow!.filters.length).toBeLessThanOrEqual(3);
    expect(slow!.filters.at(-1)).toBe('parse the c');
    // Enter at once after the last key: the filter is read then, not a pause later, and its matches said.
    await app.press(KEY.escape, '/', 'write', KEY.enter);
    expect(app.frame()).toContain('filter "write": 1 match');
    expect(app.selected()).toContain('Write docs');
  });

  it('space pauses and resumes the dispatcher; d ticks now', async () => {
    const { open } = setup();
    const app = await open();
    await app.press(' ');
    expect(app.loop!.paused).toBe(true);
    expect(app.frame()).toContain('dispatcher PAUSED');
    await app.press(' ');
    expect(app.loop!.paused).toBe(false);
    await app.press('d');
    expect(app.frame()).toContain('ticking now');
  });

  it('space and d say so when the dispatcher is off', async () => {
    const { open } = setup({ dispatcher: false });
    const app = await open();
    expect(app.frame()).toContain('dispatcher off');
    await app.press(' ');
    expect(app.frame()).toContain('the dispatcher is off (--no-dispatch)');
  });

  it('A shows and hides the archived column', async () => {
    const { store, make, open } = setup();
    const id = make('Old news');
    completeTask(store, id);
    const app = await open();
    expect(app.frame()).not.toContain('ARCHIVED');
    await app.press('A', 'G', 'l', 'l', 'l', 'l', 'l', 'l', 'l');
    expect(app.frame()).toContain('ARCHIVED 0');
    await app.press('A');
    expect(app.frame()).not.toContain('ARCHIVED');
  });

  it('? lists every key; any key closes it', async () => {
    const { open } = setup();
    const app = await open();
    await app.press('?');
    for (const does of ['reclaim', 'unblock', 'promote past unfinished parents', 'schedule', 'block', 'create', 'assign', 'complete', 'filter', 'pause / resume the dispatcher', 'tick now', 'help', 'quit']) {
      expect(app.frame()).toContain(does);
    }
    await app.press('z');
    expect(app.frame()).not.toContain('any key closes this');
  });

  it('? fits a small terminal: every key on its own line, in columns, nothing squeezed together (80x24)', async () => {
    const { open } = setup({ columns: 80, rows: 24 });
    const app = await open();
    await app.press('?');
    const frame = app.frame();
    expect(frame.split('\n').length).toBeLessThanOrEqual(23);
    const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    for (const k of helpRows()) expect(frame, k.keys).toMatch(new RegExp(`${escape(k.keys)} +${escape(k.does.slice(0, 6))}`));
  });

  it('q with workers running says they keep running, and asks (quitting an idle board: test/e2e)', async () => {
    const { store, make, open } = setup();
    const id = make('Busy');
    claimTask(store, id, { profile: 'coder', leaseMs: 60_000 });
    const app = await open();
    await app.press('q');
    expect(app.frame()).toContain('1 task is running: quitting leaves the worker running (the next dispatcher adopts them). Quit? (y/n)');
    await app.press('n');
    expect(app.frame()).toContain('cancelled');
  });

  it('keys typed together are each handled, in order', async () => {
    const { store, make, open } = setup();
    make('First');
    const second = make('Second');
    const app = await open();
    await app.press('jb', 'typed ahead\r');
    // keys typed ahead are handled on the renders that follow: wait for them, not for a fixed time
    await waitFor('the block typed ahead', () => getTask(store, second).status === 'blocked', 5000, 10);
    expect(getTask(store, second)).toMatchObject({ status: 'blocked', status_reason: 'typed ahead' });
  });

  it('an Enter that arrives while typed-ahead text waits is handled after that text', async () => {
    const { make, open } = setup();
    make('First');
    make('Second');
    const app = await open();
    // A slow board reads "/Second" in one chunk and the Enter in the next, before it has drawn the prompt.
    app.stdin.write('/Second');
    app.stdin.write(KEY.enter);
    await waitFor('the filter', () => app.frame().includes('filter "Second": 1 match'), 5000, 10);
    expect(app.selected()).toContain('Second');
  });
});

describe('cards', () => {
  it('a running card shows its pid, heartbeat age and lease', async () => {
    const { store, clock, make, open } = setup({ columns: 220 });
    const id = make('Working hard');
    claimTask(store, id, { profile: 'coder', leaseMs: 60_000 });
    forceTask(store, id, { worker_pid: 4321 });
    clock.advance(10_000);
    const app = await open();
    expect(app.frame()).toContain('♥ 10s · lease 50s · pid 4321');
  });

  it('a blocked card says breaker or sticky, with the reason', async () => {
    const { store, make, open } = setup({ columns: 220 });
    const sticky = make('By hand');
    blockTask(store, sticky, 'needs legal');
    const tripped = make('Breaker');
    forceTask(store, tripped, { status: 'blocked', consecutive_failures: 2, status_reason: 'gave up after 2 failures' });
    recordEvent(store, tripped, 'gave_up', { failures: 2, limit: 2 });
    const app = await open();
    expect(app.frame()).toContain('sticky: needs legal');
    expect(app.frame()).toContain('breaker · 2 failures');
  });

  it('a rate-limited card in ready says when it retries', async () => {
    const { store, make, open } = setup({ columns: 220 });
    const id = make('Limited');
    const { identity } = claimOrFail(store, id, { profile: 'coder', leaseMs: 60_000 });
    recordExit(store, identity, { exitCode: 75, signal: null, failures: { limit: 2, limitSource: 'default' }, rateLimitCooldownMs: 240_000 });
    const app = await open();
    expect(app.frame()).toContain('retry 4m · rate limit');
  });

  it('a scheduled card says when it is due', async () => {
    const { store, clock, make, open } = setup({ columns: 220 });
    const id = make('Tonight');
    scheduleTask(store, id, clock.now() + 3 * 3600_000);
    const app = await open();
    expect(app.frame()).toContain('due in 3h');
  });
});

describe('windowing', () => {
  it('shows a window around the cursor with the counts above and below, on 10,000 tasks', async () => {
    const { store, clock, open } = setup();
    store.writeTxn(() => {
      for (let i = 0; i < 10_000; i++) {
        clock.advance(1);
        createTask(store, { title: `Task ${String(i).padStart(5, '0')}` });
      }
    });
    const app = await open();
    expect(app.frame()).toContain('READY 10000');
    expect(cardsPerColumn({ columns: 100, rows: 30 })).toBe(5);
    expect(app.frame()).toContain('↓ 9995 more');
    await app.press('G');
    expect(app.selected()).toContain('Task 09999');
    expect(app.frame()).toContain('↑ 9995 more');
    await app.press('g', 'jjjjjjjjjj');
    expect(app.selected()).toContain('Task 00010');
    expect(app.frame()).toContain('↑ 8 more'); // the window centres on the cursor: positions 8 to 12
    expect(app.frame()).toContain('↓ 9987 more');
  });

  it('keeps the cursor on its task when tasks are added above it', async () => {
    const { store, clock, make, open } = setup();
    make('Low A');
    const target = make('Low B');
    const app = await open();
    await app.press('j');
    expect(app.selected()).toContain('Low B');
    clock.advance(1);
    createTask(store, { title: 'Urgent', priority: 9 });
    await app.press('l', 'h'); // any re-render: the board re-reads
    expect(app.selected()).toContain('Low B');
    expect(getTask(store, target).status).toBe('ready');
  });
});
