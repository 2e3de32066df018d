import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import type { Card as CardRow } from '../../src/store/board.js';
import { runningLevel, cardDetail } from '../../src/ui/cards.js';
import { Column } from '../../src/ui/Column.js';
import { Drawer } from '../../src/ui/Drawer.js';
import { boardCommand, keysFor } from '../../src/ui/keymap.js';
import { cardsPerColumn, columnFit, cut, windowStart } from '../../src/ui/layout.js';
import type { TaskDetail } from '../../src/store/tasks.js';

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
    expect(cardDetail(running(50_000, 5_000), NOW)).toBe('pid — · ♥ 5s ago · lease 50s');
    expect(cardDetail(card({ status: 'running', started_at: NOW - 3000 }), NOW)).toBe('pid — · ♥ 3s ago');
    expect(cardDetail(card({ status: 'blocked', block_kind: 'breaker', consecutive_failures: 2, status_reason: 'gave up' }), NOW)).toBe('breaker · 2 failures: gave up');
    expect(cardDetail(card({ status: 'blocked', block_kind: 'sticky', consecutive_failures: 1, status_reason: 'review' }), NOW)).toBe('sticky · 1 failure: review');
    expect(cardDetail(card({ status: 'blocked', block_kind: 'sticky' }), NOW)).toBe('sticky');
    expect(cardDetail(card({ status: 'scheduled', scheduled_until: NOW + 7200_000 }), NOW)).toBe('due in 2h');
    expect(cardDetail(card({ status: 'ready', consecutive_failures: 1 }), NOW)).toBe('1 failure');
    expect(cardDetail(card({ status: 'done', summary: 'merged' }), NOW)).toBe('merged');
    expect(cardDetail(card({ status: 'review', summary: 'parser rewritten' }), NOW)).toBe('parser rewritten');
    expect(cardDetail(card({ status: 'ready', held_by: 'rate_limited', held_until: NOW + 240_000 }), NOW)).toBe('rate limit · retry 4m');
    expect(cardDetail(card({ status: 'ready', held_by: 'spawn_failed', held_until: NOW + 30_000, consecutive_failures: 1 }), NOW)).toBe("can't start · retry 30s · 1 failure");
    expect(cardDetail(card({ status: 'ready', held_by: 'rate_limited', held_until: NOW - 1 }), NOW)).toBe('');
  });
});

describe('layout', () => {
  it('fits columns and cards to the terminal, one row short', () => {
    expect(columnFit({ columns: 80, rows: 24 }, 8)).toEqual({ count: 3, width: 26 });
    expect(columnFit({ columns: 240, rows: 24 }, 8)).toEqual({ count: 8, width: 30 });
    expect(columnFit({ columns: 20, rows: 24 }, 8)).toEqual({ count: 1, width: 20 });
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

describe('keymap', () => {
  it.each([
    ['h', { type: 'move', columns: -1, cards: 0 }],
    ['l', { type: 'move', columns: 1, cards: 0 }],
    ['j', { type: 'move', columns: 0, cards: 1 }],
    ['k', { type: 'move', columns: 0, cards: -1 }],
    ['P', { type: 'promote', force: true }],
    ['p', { type: 'promote', force: false }],
    [' ', { type: 'toggle-dispatcher' }],
    ['z', null],
  ] as const)('%j', (input, command) => {
    expect(boardCommand(input, {})).toEqual(command);
  });

  it('arrows, Enter, Esc and Ctrl-C', () => {
    expect(boardCommand('', { leftArrow: true })).toEqual({ type: 'move', columns: -1, cards: 0 });
    expect(boardCommand('', { return: true })).toEqual({ type: 'open' });
    expect(boardCommand('', { escape: true })).toEqual({ type: 'back' });
    expect(boardCommand('c', { ctrl: true })).toEqual({ type: 'quit', now: true });
    expect(boardCommand('r', { ctrl: true })).toBeNull();
  });

  it('the footer offers the keys that apply to the card', () => {
    expect(keysFor('running')).toMatch(/^r reclaim · b block · x complete · \? help · q quit · c create/);
    expect(keysFor('blocked')).toContain('u unblock');
    expect(keysFor('blocked')).not.toContain('r reclaim');
    expect(keysFor(null)).toBe('? help · q quit · c create · / filter · v mark · D diagnostics');
  });
});

describe('Column', () => {
  it('shows its title with the count, the cards, and how many more above and below', () => {
    const cards = [card({ id: 't_00000003', title: 'Third' }), card({ id: 't_00000004', title: 'Fourth' })];
    const { lastFrame } = render(<Column view={{ status: 'ready', count: 10, offset: 2, index: 3, cards }} width={30} perColumn={2} active now={NOW} limits={limits} />);
    const frame = lastFrame()!;
    expect(frame).toContain('READY 10');
    expect(frame).toContain('↑ 2 more');
    expect(frame).toContain('↓ 6 more');
    expect(frame).toMatch(/▌ +t_00000004/);
    expect(frame).not.toMatch(/▌ +t_00000003/);
  });

  it('says so when empty', () => {
    const { lastFrame } = render(<Column view={{ status: 'review', count: 0, offset: 0, index: 0, cards: [] }} width={30} perColumn={2} active={false} now={NOW} limits={limits} />);
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
    const { lastFrame } = render(<Drawer detail={detail} logTail={['line one', 'line \u001b[31mtwo\u001b[0m']} width={100} height={22} now={NOW} />);
    const frame = lastFrame()!;
    for (const text of ['The body', 'second line', 'parents t_00000001 · children t_00000009', 'failures 2/3', '#7 crashed exit 1 · 1m', 'exited 1', 'gave_up {"failures":2}', 'user: looking into it', 'line one', 'line two']) {
      expect(frame).toContain(text);
    }
    expect(frame.split('\n').length).toBeLessThanOrEqual(22);
    expect(frame).not.toContain('\u001b[31m');
  });

  it('cuts the log first when short of room', () => {
    const many = Array.from({ length: 50 }, (_, i) => `log line ${i}`);
    const { lastFrame } = render(<Drawer detail={detail} logTail={many} width={100} height={20} now={NOW} />);
    const frame = lastFrame()!;
    expect(frame.split('\n')).toHaveLength(20);
    expect(frame).toContain('log line 49');
    expect(frame).not.toContain('log line 0\n');
  });
});
