import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import stringWidth from 'string-width';
import { helpRows } from '../../src/ui/commands.js';
import { afterEach, describe, expect, it } from 'vitest';
import { blockTask, completeTask } from '../../src/store/lifecycle.js';
import { createTask, getTask, listTasks } from '../../src/store/tasks.js';
import { KANBAN_BIN } from '../helpers/cli.js';
import { fixture, isAlive } from '../helpers/processes.js';
import { KEY, openScreen, type Screen } from '../helpers/pty.js';
import { claimAndStart, runEnded, taskLog, waitFor, worker, workerBoard, type WorkerBoard } from '../helpers/workers.js';
import { forceTask } from '../helpers/board.js';

const open: Screen[] = [];
afterEach(async () => {
  for (const screen of open.splice(0)) {
    screen.kill('SIGKILL');
    await screen.exited;
  }
});

function board(board: WorkerBoard, args: string[] = ['--no-dispatch'], columns = 100, rows = 30): Screen {
  const screen = openScreen(['--db', board.db, 'tui', ...args], board.env, columns, rows);
  open.push(screen);
  return screen;
}

/** Selects a card the way a person would find it: filter on its title, Enter selects the first match. */
async function select(screen: Screen, title: string): Promise<void> {
  await screen.press('/', title, KEY.enter);
  await screen.waitFor(`the filter on "${title}"`, (t) => t.includes(`filter "${title}"`) && t.includes('1 match'));
}

/** Cells drawn in a colour, and cells drawn inverse, on the screen now. */
function styles(screen: Screen): { coloured: number; inverse: number } {
  let coloured = 0;
  let inverse = 0;
  const buffer = screen.term.buffer.active;
  for (let y = 0; y < screen.term.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y)!;
    for (let x = 0; x < screen.term.cols; x++) {
      const cell = line.getCell(x)!;
      if (!cell.isFgDefault() || !cell.isBgDefault()) coloured++;
      if (cell.isInverse()) inverse++;
    }
  }
  return { coloured, inverse };
}

/** xterm's own record of whether the cursor is hidden (not in its public API). */
const cursorHidden = (screen: Screen) => (screen.term as unknown as { _core: { coreService: { isCursorHidden: boolean } } })._core.coreService.isCursorHidden;

describe('kanban tui in a real terminal', () => {
  it('draws the board in the alternate screen, one row short of the terminal', async () => {
    const b = workerBoard({});
    createTask(b.store, { title: 'First task' });
    const screen = board(b);
    await screen.waitFor('the board', (t) => t.includes('First task'));
    expect(screen.term.buffer.active.type).toBe('alternate');
    expect(cursorHidden(screen)).toBe(true);
    const lines = screen.lines();
    expect(lines[0]).toMatch(/^kanban · .*dispatcher off/);
    expect(lines[29]).toBe(''); // the frame stops one row short: no scrolling, no flicker
    expect(lines[28]).toMatch(/q quit/);
  });

  it('draws live and in colour where CI is set, and its workers still see CI', async () => {
    // Ink and chalk take CI=true for a build server: nothing drawn until exit, no colours.
    const b = workerBoard({ env: { command: worker('env') } });
    const { task } = createTask(b.store, { title: 'Print my environment', assignee: 'env' });
    const { NO_COLOR, FORCE_COLOR, ...inherited } = b.env; // a colour choice of the machine's own is not what is tested
    const screen = openScreen(['--db', b.db, 'tui'], { ...inherited, CI: 'true', CONTINUOUS_INTEGRATION: '1' }, 100, 30);
    open.push(screen);
    await screen.waitFor('the board', (t) => t.includes('Print my environment'));
    const header = screen.lines().findIndex((l) => /READY|DONE/.test(l));
    const buffer = screen.term.buffer.active;
    const cells = Array.from({ length: 100 }, (_, x) => buffer.getLine(header)!.getCell(x)!);
    expect(cells.some((cell) => !cell.isFgDefault())).toBe(true); // the selected column's header is cyan
    await waitFor('the worker to complete', () => getTask(b.store, task.id).status === 'done');
    expect(taskLog(b, task.id)).toMatch(/\bCI=true$/m);
  });

  it('shows a task created by another process', async () => {
    const b = workerBoard({});
    const screen = board(b);
    await screen.waitFor('the board', (t) => t.includes('READY 0'));
    const created = spawnSync(process.execPath, [KANBAN_BIN, '--db', b.db, 'create', 'Made elsewhere'], { encoding: 'utf8' });
    expect(created.status).toBe(0);
    const start = Date.now();
    await screen.waitFor('the new task', (t) => t.includes('Made elsewhere') && t.includes('READY 1'));
    expect(Date.now() - start).toBeLessThan(3000); // bench/tui.ts measures the real latency
  });

  it('r reclaims the running task under the cursor', async () => {
    const b = workerBoard({ hang: { command: worker('hang') } });
    const { task } = createTask(b.store, { title: 'Hanging worker', assignee: 'hang' });
    claimAndStart(b, task.id, 600);
    const pid = await waitFor('the worker', () => getTask(b.store, task.id).worker_pid);
    const screen = board(b);
    await screen.waitFor('the running card', (t) => t.includes(`pid ${pid}`));
    await select(screen, 'Hanging');
    await screen.press('r');
    await screen.waitFor('the status line', (t) => t.includes(`reclaimed ${task.id} → ready`));
    expect(getTask(b.store, task.id)).toMatchObject({ status: 'ready', claim_lock: null });
  });

  it('b on the running card stops its worker and blocks it with the reason typed', async () => {
    const b = workerBoard({ hang: { command: worker('hang') } });
    const { task } = createTask(b.store, { title: 'Hanging worker', assignee: 'hang' });
    const identity = claimAndStart(b, task.id, 600);
    const pid = await waitFor('the worker', () => getTask(b.store, task.id).worker_pid);
    const screen = board(b);
    await screen.waitFor('the running card', (t) => t.includes(`pid ${pid}`));
    await select(screen, 'Hanging');
    await screen.press('b');
    await screen.waitFor('the question', (t) => t.includes(`block ${task.id} because:`));
    await screen.press('wrong approach', KEY.enter);
    await screen.waitFor('the status line', (t) => t.includes(`blocked ${task.id}`));
    expect(getTask(b.store, task.id)).toMatchObject({ status: 'blocked', status_reason: 'wrong approach', consecutive_failures: 0, claim_lock: null });
    expect(await runEnded(b, identity)).toMatchObject({ outcome: 'blocked', summary: 'wrong approach' });
    await waitFor('the worker to be gone', () => !isAlive(pid));
  });

  it('u unblocks, p promotes, and a refusal shows in the status line without harm', async () => {
    const b = workerBoard({});
    const stuck = createTask(b.store, { title: 'Stuck one', status: 'blocked' }).task.id;
    const idea = createTask(b.store, { title: 'An idea', triage: true }).task.id;
    const parent = createTask(b.store, { title: 'The parent' }).task.id;
    const child = createTask(b.store, { title: 'The child', parents: [parent] }).task.id;
    const screen = board(b);
    await screen.waitFor('the board', (t) => t.includes('kanban ·'));
    await select(screen, 'Stuck');
    await screen.press('u');
    await screen.waitFor('unblocked', (t) => t.includes(`unblocked ${stuck} → ready`));
    expect(getTask(b.store, stuck).status).toBe('ready');
    await select(screen, 'An idea');
    await screen.press('p');
    await screen.waitFor('promoted', (t) => t.includes(`promoted ${idea} → ready`));
    expect(getTask(b.store, idea).status).toBe('ready');
    await select(screen, 'The child');
    await screen.press('p');
    await screen.waitFor('the refusal', (t) => t.includes(`refused: cannot promote ${child}: parent ${parent} is not done`));
    expect(getTask(b.store, child).status).toBe('todo');
    await screen.press('P');
    await screen.waitFor('the confirmation', (t) => t.includes(`promote ${child} past its unfinished parents? (y/n)`));
    await screen.press('y');
    await screen.waitFor('forced', (t) => t.includes(`promoted ${child} → ready (forced)`));
    expect(getTask(b.store, child).status).toBe('ready');
  });

  it('s schedules, b blocks with a reason, c creates with an assignee', async () => {
    const b = workerBoard({ coder: { command: ['true'] } });
    const later = createTask(b.store, { title: 'Do it later' }).task.id;
    const wait = createTask(b.store, { title: 'Needs a key' }).task.id;
    const screen = board(b);
    await screen.waitFor('the board', (t) => t.includes('kanban ·'));
    await select(screen, 'later');
    const asked = Date.now();
    await screen.press('s', '2h', KEY.enter);
    await screen.waitFor('scheduled', (t) => t.includes(`scheduled ${later} until`));
    const due = getTask(b.store, later).scheduled_until!;
    expect(due - asked).toBeGreaterThan(2 * 3600_000 - 60_000);
    expect(due - asked).toBeLessThan(2 * 3600_000 + 60_000);
    await select(screen, 'Needs a key');
    await screen.press('b', 'waiting for ops', KEY.enter);
    await screen.waitFor('blocked', (t) => t.includes(`blocked ${wait}`));
    expect(getTask(b.store, wait)).toMatchObject({ status: 'blocked', status_reason: 'waiting for ops' });
    await screen.press(KEY.escape, 'c', 'Written on the board', KEY.enter, 'coder', KEY.enter);
    await screen.waitFor('created', (t) => /created t_[0-9a-f]{8} \(ready\)/.test(t));
    expect(listTasks(b.store).find((t) => t.title === 'Written on the board')).toMatchObject({ status: 'ready', assignee: 'coder' });
  });

  it('redraws on resize, down to 80×24, every status on screen at each size', async () => {
    const b = workerBoard({});
    for (let i = 0; i < 12; i++) createTask(b.store, { title: `Task ${i}` });
    const screen = board(b, ['--no-dispatch'], 140, 40);
    await screen.waitFor('the board', (t) => t.includes('READY 12'));
    const everyStatus = (t: string) => ['TRI', 'TODO', 'READY 12', 'RUN', 'BLK', 'SCHD', 'REV', 'DONE'].every((name) => t.includes(name));
    expect(everyStatus(screen.text())).toBe(true);
    screen.resize(80, 24);
    await screen.waitFor('the small frame', (t) => t.includes('READY 12') && t.includes('↓ 8 more'));
    expect(everyStatus(screen.text())).toBe(true);
    const lines = screen.lines();
    expect(lines).toHaveLength(24);
    expect(lines[0]).toMatch(/^kanban ·/);
    expect(lines[23]).toBe('');
    expect(lines.filter((l) => l.startsWith('kanban ·'))).toHaveLength(1); // no leftovers of the larger frame
    screen.resize(120, 30);
    await screen.waitFor('the middle frame', (t) => t.includes('READY 12') && t.includes('↓ 7 more'));
    expect(everyStatus(screen.text())).toBe(true);
    expect(screen.lines().filter((l) => l.startsWith('kanban ·'))).toHaveLength(1);
  });

  it('four keys in one write are four moves, and keys typed ahead reach the prompt they open (arrows, j, a filter and its Enter)', async () => {
    const b = workerBoard({});
    const ids = Array.from({ length: 8 }, (_, i) => createTask(b.store, { title: `Card ${i}`, priority: 8 - i }).task.id); // in title order
    const screen = board(b);
    await screen.waitFor('the board', (t) => t.includes('READY 8'));
    const selectedTitle = () => screen.lines().find((l) => /▌ +Card \d/.test(l))?.match(/Card \d/)?.[0];
    await screen.press(KEY.down.repeat(4)); // one write, as a held key on a busy machine delivers them
    await screen.waitFor('four cards down', () => selectedTitle() === 'Card 4');
    await screen.press('jj');
    await screen.waitFor('two more', () => selectedTitle() === 'Card 6');
    await screen.press(KEY.up + KEY.up + KEY.up + 'k');
    await screen.waitFor('four up', () => selectedTitle() === 'Card 2');
    // A whole command in one write: filter, its Enter, block, the reason and its Enter.
    await screen.press(`/Card 5\rbtyped ahead\r`);
    await waitFor('the block typed ahead', () => getTask(b.store, ids[5]!).status === 'blocked');
    expect(getTask(b.store, ids[5]!).status_reason).toBe('typed ahead');
  });

  it('the mouse: a click selects a card, the wheel moves, a click on a column focuses it', async () => {
    const b = workerBoard({});
    for (let i = 0; i < 6; i++) createTask(b.store, { title: `Card ${i}` });
    const blocked = createTask(b.store, { title: 'Stuck one', status: 'blocked' }).task.id;
    const screen = board(b, ['--no-dispatch'], 120, 35);
    await screen.waitFor('the board', (t) => t.includes('READY 6'));
    const selectedTitle = () => screen.lines().map((l) => l.slice(l.indexOf('▌'))).find((l) => /^▌ +(Card \d|Stuck one)/.test(l))?.match(/Card \d|Stuck one/)?.[0];
    const rowOf = (text: string) => screen.lines().findIndex((l) => l.includes(text));
    const columnOf = (text: string) => screen.lines()[rowOf(text)]!.indexOf(text);
    const click = (x: number, y: number) => screen.press(`\u001b[<0;${x + 1};${y + 1}M\u001b[<0;${x + 1};${y + 1}m`);
    // Cards made in the same millisecond go by id: read their order off the screen.
    const order = screen.lines().flatMap((l) => l.match(/Card \d/g) ?? []);
    await click(columnOf(order[2]!), rowOf(order[2]!));
    await screen.waitFor('the third card selected', () => selectedTitle() === order[2]);
    await screen.press('\u001b[<65;10;10M', '\u001b[<65;10;10M'); // wheel down, twice
    await screen.waitFor('the fifth card selected', () => selectedTitle() === order[4]);
    await click(columnOf('BLOCKED 1'), rowOf('BLOCKED 1'));
    await screen.waitFor('the blocked column', () => selectedTitle() === 'Stuck one');
    await screen.press('u');
    await waitFor('unblocked', () => getTask(b.store, blocked).status === 'ready');
  });

  it(': jumps to a task by id and runs a command on it with its answer (:assign, :schedule), Tab completing', async () => {
    const b = workerBoard({ coder: { command: ['true'] }, reviewer: { command: ['true'] } });
    const ids = Array.from({ length: 5 }, (_, i) => createTask(b.store, { title: `Card ${i}` }).task.id);
    const done = createTask(b.store, { title: 'Finished work' }).task.id;
    completeTask(b.store, done);
    const screen = board(b, ['--no-dispatch'], 120, 35);
    await screen.waitFor('the board', (t) => t.includes('READY 5'));
    await screen.press(':', ids[3]!, KEY.enter);
    await screen.waitFor('the jump', (t) => t.includes(`${ids[3]}: ready`) && /▌ +Card 3/.test(t));
    await screen.press(':', 'ass', '\t', 'co', '\t', KEY.enter);
    await waitFor('assigned', () => getTask(b.store, ids[3]!).assignee === 'coder');
    await screen.press(':', 'assign nobody-like-this', KEY.enter);
    await screen.waitFor('refused', (t) => t.includes('no profile "nobody-like-this"'));
    expect(getTask(b.store, ids[3]!).assignee).toBe('coder');
    await screen.press(':', 'schedule 2 hours', KEY.enter);
    await waitFor('scheduled', () => getTask(b.store, ids[3]!).status === 'scheduled');
    expect(getTask(b.store, ids[3]!).scheduled_until! - Date.now()).toBeGreaterThan(2 * 3600_000 - 120_000);
    await screen.press(':', done, KEY.enter, 'o');
    await waitFor('reopened', () => getTask(b.store, done).status === 'ready');
  });

  it('e hands the task to $EDITOR with the terminal given back, saves what it left, and draws the board again', async () => {
    const b = workerBoard({});
    const id = createTask(b.store, { title: 'Needs a better title', body: 'the body' }).task.id;
    const screen = openScreen(['--db', b.db, 'tui', '--no-dispatch'], { ...b.env, EDITOR: `${process.execPath} ${fixture('editor.mjs')}`, VISUAL: '' }, 100, 30);
    open.push(screen);
    await screen.waitFor('the board', (t) => t.includes('Needs a better title'));
    await screen.press('e');
    await screen.waitFor('the board again, with the new title', (t) => t.includes('Edited in the editor') && t.includes(`edited ${id}`));
    expect(screen.term.buffer.active.type).toBe('alternate');
    expect(getTask(b.store, id)).toMatchObject({ title: 'Edited in the editor', body: 'the body\na line added in the editor' });
  });

  it('Ctrl-Z stops the board with the terminal given back; SIGCONT (fg) draws it again', async () => {
    const b = workerBoard({});
    createTask(b.store, { title: 'Still here after fg' });
    const screen = board(b);
    await screen.waitFor('the board', (t) => t.includes('Still here after fg'));
    const state = () => readFileSync(`/proc/${screen.pid}/stat`, 'utf8').split(') ')[1]![0];
    await screen.press('\u001a');
    await waitFor('the board stopped', () => state() === 'T');
    // It left the alternate screen before stopping; the bytes saying so may still be on their way
    // through the pseudo-terminal and the emulator on a loaded machine.
    await waitFor('the terminal given back', () => screen.term.buffer.active.type === 'normal');
    process.kill(screen.pid, 'SIGCONT');
    await screen.waitFor('the board again', (t) => t.includes('Still here after fg') && screen.term.buffer.active.type === 'alternate');
    await screen.press('q');
    expect(await screen.exited).toBe(0);
  });

  it('at 80×24: ? lists every key on its own line; Enter does not answer a y/n; a wide title is cut by the cells it takes', async () => {
    const b = workerBoard({});
    const id = createTask(b.store, { title: '日本語のタイトルはとても長いので切られます and then some more words' }).task.id;
    const screen = board(b, ['--no-dispatch'], 80, 24);
    await screen.waitFor('the board', (t) => t.includes(id));
    for (const line of screen.lines()) expect(stringWidth(line), line).toBeLessThanOrEqual(80);
    await screen.press('?');
    await screen.waitFor('help', (t) => t.includes('any key closes this'));
    const help = screen.text();
    for (const row of helpRows()) expect(help, row.keys).toContain(` ${row.keys.padEnd(9)} ${row.does.slice(0, 6)}`);
    await screen.press('z', 'x');
    await screen.waitFor('the question', (t) => t.includes(`complete ${id}? (y/n)`));
    await screen.press(KEY.enter);
    await screen.waitFor('the answer to Enter', (t) => t.includes('y to confirm, n or Esc to cancel'));
    expect(getTask(b.store, id).status).toBe('ready');
    await screen.press('y');
    await waitFor('completed', () => getTask(b.store, id).status === 'done');
  });

  it('q quits and gives the terminal back: normal screen, cursor shown', async () => {
    const b = workerBoard({});
    const screen = board(b);
    await screen.waitFor('the board', (t) => t.includes('kanban ·'));
    await screen.press('q');
    expect(await screen.exited).toBe(0);
    expect(screen.term.buffer.active.type).toBe('normal');
    expect(cursorHidden(screen)).toBe(false);
  });

  it('SIGTERM gives the terminal back too', async () => {
    const b = workerBoard({});
    const screen = board(b);
    await screen.waitFor('the board', (t) => t.includes('kanban ·'));
    screen.kill('SIGTERM');
    expect(await screen.exited).toBe(0);
    expect(screen.term.buffer.active.type).toBe('normal');
    expect(cursorHidden(screen)).toBe(false);
  });

  it('D lists what needs attention; Enter goes to the card; its fix key fixes it', async () => {
    const b = workerBoard({});
    const ghost = createTask(b.store, { title: 'Ghost task' }).task.id;
    forceTask(b.store, ghost, { status: 'running' });
    const screen = board(b, ['--no-dispatch'], 120, 30);
    await screen.waitFor('the attention counter', (t) => t.includes('1 needs attention (D)'), 5000);
    await screen.press('D');
    await screen.waitFor('the list', (t) => t.includes('ghost_running') && t.includes('most severe first'));
    await screen.press(KEY.enter);
    await screen.waitFor('the board again', (t) => t.includes('RUNNING 1') && !t.includes('most severe first'));
    await screen.press('r');
    await screen.waitFor('the fix', (t) => t.includes(`reclaimed ${ghost} → ready`));
    expect(getTask(b.store, ghost).status).toBe('ready');
    await screen.waitFor('nothing left', (t) => !t.includes('needs attention'), 5000);
  });

  it('v marks cards; u unblocks every marked card and reports each', async () => {
    const b = workerBoard({});
    const blocked = ['Marked one', 'Marked two'].map((title) => createTask(b.store, { title, status: 'blocked' }).task.id);
    const screen = board(b, ['--no-dispatch'], 120, 30);
    await screen.waitFor('the board', (t) => t.includes('kanban ·'));
    await select(screen, 'Marked one');
    await screen.press('v');
    await select(screen, 'Marked two');
    await screen.press('v');
    await screen.waitFor('two marked', (t) => t.includes('2 marked'));
    await screen.press('u');
    await screen.waitFor('the report', (t) => t.includes('2 unblocked'));
    expect(blocked.map((id) => getTask(b.store, id).status)).toEqual(['ready', 'ready']);
  });

  it('a crash gives the terminal back too, and says what happened', async () => {
    const b = workerBoard({});
    const screen = openScreen(['--db', b.db, 'tui', '--no-dispatch'], { ...b.env, NODE_OPTIONS: `--require ${fixture('crash-later.cjs')}` });
    open.push(screen);
    await screen.waitFor('the board', (t) => t.includes('kanban ·'));
    screen.kill('SIGUSR2');
    expect(await screen.exited).toBe(4);
    expect(screen.term.buffer.active.type).toBe('normal');
    expect(cursorHidden(screen)).toBe(false);
    expect(screen.text()).toContain('kanban: internal error in the board: simulated crash');
  });

  it('draws at once on the cheap check; the full check then runs on its own thread, and a corrupt page it finds ends the board (exit 4, terminal given back, the file copied aside) before any dispatching', async () => {
    const b = workerBoard({});
    for (let i = 0; i < 300; i++) createTask(b.store, { title: `task ${i}`, body: 'x'.repeat(200) });
    createTask(b.store, { title: 'First task' });
    // An index page the first frame does not read (each event's run), scribbled over.
    const root = b.store.db.prepare("SELECT rootpage FROM sqlite_schema WHERE name = 'task_events_run'").pluck().get() as number;
    const pageSize = Number(b.store.db.pragma('page_size', { simple: true }));
    b.store.close();
    const fd = openSync(b.db, 'r+');
    writeSync(fd, Buffer.alloc(64, 0xff), 0, 64, pageSize * (root - 1));
    closeSync(fd);
    const screen = board(b, []);
    expect(await screen.exited).toBe(4);
    expect(screen.term.buffer.active.type).toBe('normal');
    expect(screen.text().replace(/\n/g, '')).toMatch(/kanban: board .*board\.db is corrupt \(quick_check: .*\); it was left as it is and a copy was saved as .*\.bak/);
    expect(readdirSync(dirname(b.db)).filter((name) => name.includes('.corrupt.') && name.endsWith('.bak'))).toHaveLength(1);
  });

  it('NO_COLOR draws no colour, but keeps the selected card inverse', async () => {
    const b = workerBoard({});
    createTask(b.store, { title: 'A task' });
    const plain = board(b, ['--no-dispatch'], 120, 30);
    await plain.waitFor('the board', (t) => t.includes('A task'));
    expect(styles(plain).coloured).toBeGreaterThan(0); // the active column's header, at least
    const screen = openScreen(['--db', b.db, 'tui', '--no-dispatch'], { ...b.env, NO_COLOR: '1' }, 120, 30);
    open.push(screen);
    await screen.waitFor('the board', (t) => t.includes('A task'));
    expect(styles(screen)).toMatchObject({ coloured: 0, inverse: expect.any(Number) });
    expect(styles(screen).inverse).toBeGreaterThan(0);
  });

  it('--no-color does what NO_COLOR does, before the command or after it', async () => {
    const b = workerBoard({});
    createTask(b.store, { title: 'A task' });
    const { NO_COLOR, ...env } = b.env; // not inherited from the machine: the flag alone
    for (const args of [['--no-color', '--db', b.db, 'tui', '--no-dispatch'], ['--db', b.db, 'tui', '--no-dispatch', '--no-color']]) {
      const screen = openScreen(args, env, 120, 30);
      open.push(screen);
      await screen.waitFor('the board', (t) => t.includes('A task'));
      expect(styles(screen).coloured).toBe(0);
      expect(styles(screen).inverse).toBeGreaterThan(0);
    }
  });

  it('draws a title carrying escape sequences as plain text, and the terminal title stays', async () => {
    const b = workerBoard({});
    createTask(b.store, { title: 'Evil \u001b[2J\u001b[H\u001b[31mred\u001b[0m \u001b]0;pwned\u0007title\u001b[10;10H' });
    const done = createTask(b.store, { title: 'Old' }).task.id;
    completeTask(b.store, done, '\u001b]2;also pwned\u0007summary');
    blockTask(b.store, createTask(b.store, { title: 'Blocked' }).task.id, 'reason \u001b[5mblink\u001b[0m');
    const screen = board(b, ['--no-dispatch'], 210, 30);
    await screen.waitFor('the titles', (t) => t.includes('Evil red title') && t.includes('summary') && t.includes('reason blink'));
    expect(screen.titles).toEqual([]);
    const lines = screen.lines();
    expect(lines[0]).toMatch(/^kanban ·/); // nothing moved the cursor or cleared the screen
    const row = lines.findIndex((l) => l.includes('Evil red title'));
    const cell = screen.term.buffer.active.getLine(row)!.getCell(lines[row]!.indexOf('red'))!;
    expect(cell.isFgDefault() || cell.getFgColor() !== 1).toBe(true); // not turned red by the title
  });
});
