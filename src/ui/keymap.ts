import type { Status } from '../store/types.js';

/** What the keyboard is talking to: the topmost thing on screen gets the key first. */
export type Mode = 'board' | 'drawer' | 'help' | 'prompt' | 'confirm';

export type Command =
  | { type: 'move'; columns: number; cards: number }
  | { type: 'first' }
  | { type: 'last' }
  | { type: 'open' }
  | { type: 'back' }
  | { type: 'reclaim' }
  | { type: 'unblock' }
  | { type: 'reopen' }
  | { type: 'promote'; force: boolean }
  | { type: 'schedule' }
  | { type: 'block' }
  | { type: 'create' }
  | { type: 'assign' }
  | { type: 'complete' }
  | { type: 'approve' }
  | { type: 'request-changes' }
  | { type: 'filter' }
  | { type: 'toggle-dispatcher' }
  | { type: 'tick' }
  | { type: 'toggle-archived' }
  | { type: 'help' }
  | { type: 'mark' }
  | { type: 'diagnostics' }
  | { type: 'quit'; now: boolean };

export interface KeyInfo {
  upArrow?: boolean;
  downArrow?: boolean;
  leftArrow?: boolean;
  rightArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  home?: boolean;
  end?: boolean;
  return?: boolean;
  escape?: boolean;
  ctrl?: boolean;
}

/** Every key of the board, for `?` and the footer. */
export const KEYS: ReadonlyArray<{ keys: string; does: string; when?: readonly Status[] }> = [
  { keys: '←→ h l', does: 'column' },
  { keys: '↑↓ j k', does: 'card' },
  { keys: 'g G', does: 'first / last card' },
  { keys: 'Enter', does: 'details' },
  { keys: 'Esc', does: 'back' },
  { keys: 'r', does: 'reclaim', when: ['running'] },
  { keys: 'u', does: 'unblock', when: ['blocked', 'scheduled'] },
  { keys: 'o', does: 'reopen', when: ['done', 'archived'] },
  { keys: 'p', does: 'promote', when: ['triage', 'todo', 'blocked'] },
  { keys: 'P', does: 'force promote', when: ['todo'] },
  { keys: 's', does: 'schedule', when: ['triage', 'todo', 'ready', 'blocked', 'scheduled', 'review'] },
  { keys: 'b', does: 'block', when: ['triage', 'todo', 'ready', 'running', 'scheduled', 'review'] },
  { keys: 'a', does: 'assign', when: ['triage', 'todo', 'ready', 'blocked', 'scheduled', 'review'] },
  { keys: 'y', does: 'approve', when: ['review'] },
  { keys: 'n', does: 'request changes', when: ['review'] },
  { keys: 'x', does: 'complete', when: ['triage', 'todo', 'ready', 'running', 'blocked', 'scheduled', 'review'] },
  { keys: 'c', does: 'create' },
  { keys: 'v', does: 'mark / unmark (r u p s x then act on every marked card)' },
  { keys: 'D', does: 'diagnostics: what needs attention' },
  { keys: '/', does: 'filter' },
  { keys: 'space', does: 'pause/resume dispatcher' },
  { keys: 'd', does: 'tick now' },
  { keys: 'A', does: 'show/hide archived' },
  { keys: '?', does: 'help' },
  { keys: 'q', does: 'quit' },
];

const LETTERS: Record<string, Command> = {
  h: { type: 'move', columns: -1, cards: 0 },
  l: { type: 'move', columns: 1, cards: 0 },
  k: { type: 'move', columns: 0, cards: -1 },
  j: { type: 'move', columns: 0, cards: 1 },
  g: { type: 'first' },
  G: { type: 'last' },
  r: { type: 'reclaim' },
  u: { type: 'unblock' },
  o: { type: 'reopen' },
  p: { type: 'promote', force: false },
  P: { type: 'promote', force: true },
  s: { type: 'schedule' },
  b: { type: 'block' },
  c: { type: 'create' },
  a: { type: 'assign' },
  x: { type: 'complete' },
  y: { type: 'approve' },
  n: { type: 'request-changes' },
  '/': { type: 'filter' },
  ' ': { type: 'toggle-dispatcher' },
  d: { type: 'tick' },
  A: { type: 'toggle-archived' },
  '?': { type: 'help' },
  v: { type: 'mark' },
  D: { type: 'diagnostics' },
  q: { type: 'quit', now: false },
};

/**
 * The board's keys (in the board and in the details drawer). Prompts, confirmations and help read
 * their own keys before this is asked.
 */
export function boardCommand(input: string, key: KeyInfo): Command | null {
  if (key.ctrl && input === 'c') return { type: 'quit', now: true };
  if (key.ctrl) return null;
  if (key.leftArrow) return { type: 'move', columns: -1, cards: 0 };
  if (key.rightArrow) return { type: 'move', columns: 1, cards: 0 };
  if (key.upArrow) return { type: 'move', columns: 0, cards: -1 };
  if (key.downArrow) return { type: 'move', columns: 0, cards: 1 };
  if (key.pageUp) return { type: 'move', columns: 0, cards: -10 };
  if (key.pageDown) return { type: 'move', columns: 0, cards: 10 };
  if (key.home) return { type: 'first' };
  if (key.end) return { type: 'last' };
  if (key.return) return { type: 'open' };
  if (key.escape) return { type: 'back' };
  return LETTERS[input] ?? null;
}

/** The keys worth showing for a card in this status (footer): its own keys first, then help and quit. */
export function keysFor(status: Status | null): string {
  return KEYS.filter((k) => k.when !== undefined && status !== null && k.when.includes(status))
    .map((k) => `${k.keys} ${k.does}`)
    .concat(['? help', 'q quit', 'c create', '/ filter', 'v mark', 'D diagnostics']) // most needed first: a narrow footer cuts the end
    .join(' · ');
}
