import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import type { Card as CardRow } from '../../src/core/types.js';
import { runningLevel, cardDetail } from '../../src/ui/cards.js';
import { Column } from '../../src/ui/Column.js';
import { Drawer } from '../../src/ui/Drawer.js';
import { Header } from '../../src/ui/Chrome.js';
import { commandForKey, footerFor, whyNot, command } from '../../src/ui/commands.js';
import { pressesOf } from '../../src/ui/keys.js';
import { editLine } from '../../src/ui/line-edit.js';
import { COLLAPSED_WIDTH, MIN_COLUMN_WIDTH, cardsPerColumn, cut, planColumns } from '../../src/ui/layout.js';
import { windowStart } from '../../src/core/window.js';
import type { TaskDetail } from '../../src/port/types.js';

const NOW = Date.UTC(2026, 10, 21, 12);
const limits = { claimTtlMs: 60_000, heartbeatMaxStaleMs: 120_000 };

function card(overrides: Partial<CardRow> = {}): CardRow {
  return {
    id: 't_1a2b3c4d', title: 'A card', body: '', status: 'ready', assignee: null, priority: 0, claim_lock: null, claim_expires: null,
    worker_pid: null, current_run_id: null, last_heartbeat_at: null, consecutive_failures: 0, max_retries: null, max_runtime_seconds: null,
    scheduled_until: null, status_reason: null, summary: null, workspace_kind: 'scratch', workspace_path: null, idempotency_key: null,
    created_at: NOW, updated_at: NOW, started_at: null, completed_at: null, block_kind: null, held_by: null, held_until: null, ...overrides,
  };
}

describe('card health', () => {
  const running = (leaseLeftMs: number, silentMs: number) =>
    card({ status: 'running', claim_expires: NOW + leaseLeftMs, last_heartbeat_at: NOW - silentMs, started_at: NOW - 600_000 });

  it.each([
    ['fresh', 50_000, 5_000, 'ok'],
    ['in the last quarter of its lease', 14_000, 5_000, 'warning'],
    ['silent for half of MAX_STALE', 50_000, 60_000, 'warning'],
    ['past its lease', -1, 5_000, 'critical'],
    ['silent for MAX_STALE', 50_000, 120_000, 'critical'],
  ] as const)('%s is %s', (_name, left, silent, level) => {
    expect(runningLevel(running(left, silent), NOW, limits)).toBe(level);
  });

  it('says what each status has to say', () => {
    expect(cardDetail(running(50_000, 5_000), NOW)).toBe('♥ 5s · lease 50s · pid —');
    expect(cardDetail(card({ status: 'running', started_at: NOW - 3000 }), NOW)).toBe('♥ 3s · pid —');
    expect(cardDetail(card({ status: 'blocked', block_kind: 'breaker', consecutive_failures: 2, status_reason: 'gave up' }), NOW)).toBe('breaker · 2 failures: gave up');
    expect(cardDetail(card({ status: 'blocked', block_kind: 'sticky', consecutive_failures: 1, status_reason: 'review' }), NOW)).toBe('sticky · 1 failure: review');
    expect(cardDetail(card({ status: 'blocked', block_kind: 'sticky' }), NOW)).toBe('sticky');
    expect(cardDetail(card({ status: 'scheduled', scheduled_until: NOW + 7200_000 }), NOW)).toBe('due in 2h');
    expect(cardDetail(card({ status: 'ready', consecutive_failures: 1 }), NOW)).toBe('1 failure');
    expect(cardDetail(card({ status: 'done', summary: 'merged' }), NOW)).toBe('merged');
    expect(cardDetail(card({ status: 'review', summary: 'parser rewritten' }), NOW)).toBe('parser rewritten');
    expect(cardDetail(card({ status: 'ready', held_by: 'rate_limited', held_until: NOW + 240_000 }), NOW)).toBe('retry 4m · rate limit');
    expect(cardDetail(card({ status: 'ready', held_by: 'spawn_failed', held_until: NOW + 30_000, consecutive_failures: 1 }), NOW)).toBe("retry 30s · can't start · 1 failure");
    expect(cardDetail(card({ status: 'ready', held_by: 'rate_limited', held_until: NOW - 1 }), NOW)).toBe('');
  });
});

describe('layout', () => {
  it('every column is on screen: empty ones collapse to their name and count, full ones share the rest by what their cards need', () => {
    const d = (count: number, content = 20) => ({ count, content });
    // 80 columns, 3 columns with cards, 5 empty: the 5 collapse, the 3 share 55.
    const plan = planColumns(80, [d(0), d(2), d(5), d(1), d(0), d(0), d(0), d(0)], 2);
    expect(plan.expanded).toEqual([false, true, true, true, false, false, false, false]);
    expect(plan.widths.reduce((a, b) => a + b)).toBe(80);
    expect(plan.widths.filter((_, i) => !plan.expanded[i])).toEqual(Array(5).fill(COLLAPSED_WIDTH));
    // 120 columns, all 8 hold cards: all 8 drawn full, none narrower than the minimum.
    const all = planColumns(120, Array.from({ length: 8 }, () => d(3, 40)), 0);
    expect(all.expanded.every(Boolean)).toBe(true);
    expect(Math.min(...all.widths)).toBeGreaterThanOrEqual(MIN_COLUMN_WIDTH);
    // 80 columns, all 8 hold cards: the farthest from the active one collapse; the active stays full.
    const narrow = planColumns(80, Array.from({ length: 8 }, () => d(3, 40)), 6);
    expect(narrow.expanded[6]).toBe(true);
    expect(narrow.expanded[0]).toBe(false);
    expect(narrow.widths.reduce((a, b) => a + b)).toBeLessThanOrEqual(80);
    // 200 columns: a column whose title is 33 wide gets the room for it; short ones take what they need.
    const wide = planColumns(200, [d(1, 33), d(1, 8), d(1, 8), d(1, 8), d(1, 8), d(1, 8), d(1, 8), d(1, 8)], 0);
    expect(wide.widths[0]).toBeGreaterThanOrEqual(33 + 4);
    // The active column is drawn full even when empty.
    expect(planColumns(100, [d(0), d(0), d(4)], 0).expanded).toEqual([true, false, true]);
    expect(cardsPerColumn({ columns: 80, rows: 24 })).toBe(4);
    expect(cardsPerColumn({ columns: 80, rows: 5 })).toBe(1);
  });

  it('keeps the selection in a centred window', () => {
    expect(windowStart(0, 5, 100)).toBe(0);
    expect(windowStart(50, 5, 100)).toBe(48);
    expect(windowStart(99, 5, 100)).toBe(95);
    expect(windowStart(3, 5, 4)).toBe(0);
  });

  it('cuts text to width with an ellipsis, counting the columns a terminal draws, not characters', () => {
    expect(cut('hello world', 5)).toBe('hell…');
    expect(cut('hi', 5)).toBe('hi');
    expect(cut('日本語のタイトル', 4)).toBe('日…'); // wide characters take two columns each
    expect(cut('日本語のタイトル', 7)).toBe('日本語…');
    const accented = 'cafe\u0301 re\u0301sume\u0301'; // 11 columns, 14 code points
    expect(cut(accented, 11)).toBe(accented);
    expect(cut(accented, 6)).toBe('cafe\u0301 …'); // never splits an accent from its letter
  });
});

describe('the command table and the keys', () => {
  it.each([
    ['h', 'column-left'],
    ['l', 'column-right'],
    ['j', 'card-down'],
    ['k', 'card-up'],
    ['P', 'force-promote'],
    ['p', 'promote'],
    ['space', 'toggle-dispatcher'],
    ['left', 'column-left'],
    ['enter', 'open'],
    ['esc', 'back'],
    [':', 'command-line'],
  ] as const)('%s', (key, id) => {
    expect(commandForKey(key)?.id).toBe(id);
  });

  it('keys that arrive in one read are as many presses: four arrows, "jjj", a paste with its Enter', () => {
    expect(pressesOf('', { downArrow: true })).toEqual([{ name: 'down', ctrl: false, meta: false }]);
    expect(pressesOf('jjj', {}).map((p) => p.name)).toEqual(['j', 'j', 'j']);
    expect(pressesOf('ab c\r', {}).map((p) => p.name)).toEqual(['a', 'b', 'space', 'c', 'enter']);
    expect(pressesOf('c', { ctrl: true })).toEqual([{ name: 'c', ctrl: true, meta: false }]);
  });

  it('a key on a card it does not apply to says why, from the table', () => {
    const on = (status: 'ready' | 'done' | 'running') => ({ id: 't_00000001', status });
    expect(whyNot(command('reclaim'), on('ready'))).toBe('refused: r reclaim is for running tasks; t_00000001 is ready');
    expect(whyNot(command('unblock'), on('done'))).toBe('refused: u unblock is for blocked or scheduled tasks; t_00000001 is done');
    expect(whyNot(command('reclaim'), on('running'))).toBeNull();
  });

  it('the footer offers the keys that apply to the card', () => {
    expect(footerFor('running')).toMatch(/^r reclaim · b block · x complete · \? help · q quit · c create/);
    expect(footerFor('blocked')).toContain('u unblock');
    expect(footerFor('blocked')).not.toContain('r reclaim');
    expect(footerFor(null)).toBe('? help · q quit · c create · / filter · : command · v mark · D diagnostics');
  });

  it('prompts edit like a shell: ←→ move, Ctrl-U, Ctrl-W, Ctrl-K, insert at the cursor', () => {
    const p = (name: string, ctrl = false) => ({ name, ctrl, meta: false });
    let line = { value: 'block the deploy', cursor: 16 };
    line = editLine(line, p('w', true))!;
    expect(line).toEqual({ value: 'block the ', cursor: 10 });
    line = editLine(editLine(line, p('left'))!, p('left'))!;
    line = editLine(line, p('X'))!;
    expect(line).toEqual({ value: 'block thXe ', cursor: 9 });
    expect(editLine(line, p('k', true))).toEqual({ value: 'block thX', cursor: 9 });
    expect(editLine(line, p('u', true))).toEqual({ value: 'e ', cursor: 0 });
    expect(editLine(line, p('enter'))).toBeNull();
  });
});

describe('Column', () => {
  it('shows its title with the count, the cards, and how many more above and below', () => {
    const cards = [card({ id: 't_00000003', title: 'Third' }), card({ id: 't_00000004', title: 'Fourth' })];
    const { lastFrame } = render(<Column view={{ status: 'ready', count: 10, offset: 2, index: 3, sort: 'column', cards }} width={30} perColumn={2} active now={NOW} limits={limits} />);
    const frame = lastFrame()!;
    expect(frame).toContain('READY 10');
    expect(frame).toContain('↑ 2 more');
    expect(frame).toContain('↓ 6 more');
    expect(frame).toMatch(/▌ +t_00000004/);
    expect(frame).not.toMatch(/▌ +t_00000003/);
  });

  it('says so when empty', () => {
    const { lastFrame } = render(<Column view={{ status: 'review', count: 0, offset: 0, index: 0, sort: 'column', cards: [] }} width={30} perColumn={2} active={false} now={NOW} limits={limits} />);
    expect(lastFrame()).toContain('REVIEW 0');
    expect(lastFrame()).toContain('(empty)');
  });
});

describe('Drawer', () => {
  const detail: TaskDetail = {
    task: { ...card({ status: 'blocked', status_reason: 'breaker', consecutive_failures: 2, max_retries: 3, body: 'The body\nsecond line' }), parents: ['t_00000001'], children: ['t_00000009'] },
    runs: [
      { id: 7, task_id: 't_1a2b3c4d', profile: 'coder', status: 'ended', claim_lock: 'h:1:a', worker_pid: 10, started_at: NOW - 90_000, ended_at: NOW - 30_000, last_heartbeat_at: null, outcome: 'crashed', summary: null, error: 'exited 1', exit_code: 1, supervisor_pid: 9, signal: null, lease_ms: 60_000 },
    ],
    events: [{ id: 1, task_id: 't_1a2b3c4d', run_id: 7, kind: 'gave_up', payload: { failures: 2 }, created_at: NOW - 30_000 }],
    comments: [{ id: 1, task_id: 't_1a2b3c4d', run_id: null, author: 'user', body: 'looking into it', created_at: NOW - 10_000 }],
  };

  it('shows body, links, runs, events, comments and the log tail, within its height', () => {
    const { lastFrame } = render(<Drawer detail={detail} logTail={['line one', 'line \u001b[31mtwo\u001b[0m']} width={100} height={22} now={NOW} scroll={0} />);
    const frame = lastFrame()!;
    for (const text of ['The body', 'second line', 'parents t_00000001 · children t_00000009', 'failures 2/3', '#7 crashed exit 1 · 1m', 'exited 1', 'gave up · failure 2', 'user: looking into it', 'line one', 'line two']) {
      expect(frame).toContain(text);
    }
    expect(frame.split('\n').length).toBeLessThanOrEqual(22);
    expect(frame).not.toContain('\u001b[31m');
  });

  it('cuts the log first when short of room', () => {
    const many = Array.from({ length: 50 }, (_, i) => `log line ${i}`);
    const { lastFrame } = render(<Drawer detail={detail} logTail={many} width={100} height={20} now={NOW} scroll={0} />);
    const frame = lastFrame()!;
    expect(frame.split('\n')).toHaveLength(20);
    expect(frame).toContain('log line 49');
    expect(frame).not.toContain('log line 0\n');
  });
});

describe('the header on a board other hosts share', () => {
  const dispatcher = { enabled: true, paused: false, lastTickAt: NOW - 1000, cap: 4 } as Parameters<typeof Header>[0]['dispatcher'];
  const host = (id: string, seenAgoMs: number) => ({ id, name: id, boot_id: 'b', first_seen_at: NOW - 3_600_000, last_seen_at: NOW - seenAgoMs, booted_at: NOW - 3_600_000 });
  const header = (hosts: Parameters<typeof Header>[0]['hosts']) =>
    render(<Header board="pg" dispatcher={dispatcher} running={2} now={NOW} width={100} filter="" attention={0} marked={0} hosts={hosts} />).lastFrame()!;

  it('says how many hosts are live, and how many went quiet; a file board (no hosts) says nothing of them', () => {
    expect(header([host('h_a', 1000), host('h_b', 30_000), host('h_c', 5 * 60_000)])).toContain('│  hosts 2 (+1 quiet)');
    expect(header([host('h_a', 1000)])).toContain('│  hosts 1');
    expect(header([])).not.toContain('hosts');
  });
});
