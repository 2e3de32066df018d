import { TRANSITIONS } from '../core/transitions.js';
import { OPEN_STATUSES, STATUSES, type Status } from '../core/types.js';

/**
 * The board's one command table: each key, what it does, the statuses of the card it applies to.
 * The footer, `?` help, the README's key table (scripts/readme-keys.mjs; a test keeps them equal)
 * and the refusal a key gets on a card it does not apply to are all read from here.
 */
export type CommandId =
  | 'column-left'
  | 'column-right'
  | 'card-up'
  | 'card-down'
  | 'page-up'
  | 'page-down'
  | 'first'
  | 'last'
  | 'open'
  | 'back'
  | 'reclaim'
  | 'unblock'
  | 'reopen'
  | 'promote'
  | 'force-promote'
  | 'schedule'
  | 'block'
  | 'assign'
  | 'approve'
  | 'request-changes'
  | 'complete'
  | 'archive'
  | 'comment'
  | 'edit'
  | 'copy-id'
  | 'link'
  | 'unlink'
  | 'sort'
  | 'suspend'
  | 'create'
  | 'mark'
  | 'diagnostics'
  | 'stats'
  | 'filter'
  | 'command-line'
  | 'toggle-dispatcher'
  | 'tick'
  | 'toggle-archived'
  | 'help'
  | 'quit';

export interface CommandSpec {
  id: CommandId;
  /** The keys as typed: a character, a named key (`left`, `enter`, `esc`, `pageup`, …) or `ctrl+z`; none: `:` only. */
  keys: readonly string[];
  /** How the keys are written in help and the README. */
  label: string;
  does: string;
  /** The statuses of the card it applies to (a card command); absent: it needs no card. */
  when?: readonly Status[];
  /** Acts on every marked card when there are marks. */
  bulk?: boolean;
  /** The word the footer uses, when not the start of `does`. */
  short?: string;
  /** Not in help's table (the arrows' letter twins are in their row). */
  hidden?: boolean;
}

/** Any card (comment, edit, copy, mark, link). */
const ANY: readonly Status[] = STATUSES;
/** Open and not running: who runs a task is changed while nobody runs it (finished work is not reassigned). */
const ASSIGNABLE: readonly Status[] = OPEN_STATUSES.filter((s) => s !== 'running');

export const COMMANDS: readonly CommandSpec[] = [
  { id: 'column-left', keys: ['left', 'h'], label: '←→ h l', does: 'column' },
  { id: 'column-right', keys: ['right', 'l'], label: '→ l', does: 'column right', hidden: true },
  { id: 'card-up', keys: ['up', 'k'], label: '↑↓ j k', does: 'card' },
  { id: 'card-down', keys: ['down', 'j'], label: '↓ j', does: 'card down', hidden: true },
  { id: 'page-up', keys: ['pageup'], label: 'PgUp PgDn', does: 'ten cards' },
  { id: 'page-down', keys: ['pagedown'], label: 'PgDn', does: 'ten cards down', hidden: true },
  { id: 'first', keys: ['g', 'home'], label: 'g G', does: 'first / last card' },
  { id: 'last', keys: ['G', 'end'], label: 'G', does: 'last card', hidden: true },
  { id: 'open', keys: ['enter'], label: 'Enter', does: 'details (runs, events, log)' },
  { id: 'back', keys: ['esc'], label: 'Esc', does: 'back; clears the filter, then the marks' },
  { id: 'reclaim', keys: ['r'], label: 'r', does: 'reclaim: stop the worker, back to ready', when: TRANSITIONS.reclaim.from, bulk: true },
  { id: 'unblock', keys: ['u'], label: 'u', does: 'unblock', when: TRANSITIONS.unblock.from, bulk: true },
  { id: 'reopen', keys: ['o'], label: 'o', does: 'reopen', when: TRANSITIONS.reopen.from, bulk: true },
  { id: 'promote', keys: ['p'], label: 'p', does: 'promote to ready', short: 'promote', when: TRANSITIONS.promote.from, bulk: true },
  { id: 'force-promote', keys: ['P'], label: 'P', does: 'promote past unfinished parents', short: 'force promote', when: TRANSITIONS.promote.from, bulk: true },
  { id: 'schedule', keys: ['s'], label: 's', does: 'schedule (90s, 2h, 1d or a time)', when: TRANSITIONS.schedule.from, bulk: true },
  { id: 'block', keys: ['b'], label: 'b', does: 'block (stops a running worker)', when: TRANSITIONS['stop-and-block'].from },
  { id: 'assign', keys: ['a'], label: 'a', does: 'assign to a profile', short: 'assign', when: ASSIGNABLE },
  { id: 'approve', keys: ['y'], label: 'y', does: 'approve', when: TRANSITIONS.approve.from },
  { id: 'request-changes', keys: ['n'], label: 'n', does: 'request changes', when: TRANSITIONS['request-changes'].from },
  { id: 'complete', keys: ['x'], label: 'x', does: 'complete', when: TRANSITIONS.complete.from, bulk: true },
  { id: 'archive', keys: ['X'], label: 'X', does: 'archive', when: TRANSITIONS.archive.from, bulk: true },
  { id: 'comment', keys: ['C'], label: 'C', does: 'comment (the next run is handed it)', when: ANY },
  { id: 'edit', keys: ['e'], label: 'e', does: 'edit the title and body in $EDITOR', when: ANY },
  { id: 'copy-id', keys: ['Y'], label: 'Y', does: 'copy the task id (to the clipboard, OSC 52)', short: 'copy id', when: ANY },
  { id: 'link', keys: [], label: ':link ID', does: 'the card waits on task ID (its parent)', when: ANY },
  { id: 'unlink', keys: [], label: ':unlink ID', does: 'the card no longer waits on task ID', when: ANY },
  { id: 'create', keys: ['c'], label: 'c', does: 'create a task', short: 'create' },
  { id: 'mark', keys: ['v'], label: 'v', does: 'mark / unmark (then act on every marked card)', short: 'mark', when: ANY },
  { id: 'filter', keys: ['/'], label: '/', does: 'filter by id, title or assignee', short: 'filter' },
  { id: 'command-line', keys: [':'], label: ':', does: 'command line (Tab completes)', short: 'command' },
  { id: 'sort', keys: ['O'], label: 'O', does: 'order this column: its own, newest, oldest, by title', short: 'order' },
  { id: 'diagnostics', keys: ['D'], label: 'D', does: 'diagnostics: what needs attention', short: 'diagnostics' },
  { id: 'stats', keys: ['S'], label: 'S', does: 'statistics' },
  { id: 'toggle-dispatcher', keys: ['space'], label: 'space', does: 'pause / resume the dispatcher' },
  { id: 'tick', keys: ['d'], label: 'd', does: 'dispatcher tick now' },
  { id: 'toggle-archived', keys: ['A'], label: 'A', does: 'show / hide archived' },
  { id: 'help', keys: ['?'], label: '?', does: 'help' },
  { id: 'suspend', keys: ['ctrl+z'], label: 'Ctrl-Z', does: 'suspend (fg brings it back)' },
  { id: 'quit', keys: ['q'], label: 'q', does: 'quit (Ctrl-C: at once)' },
];

const BY_ID = new Map(COMMANDS.map((c) => [c.id, c]));

export function command(id: CommandId): CommandSpec {
  return BY_ID.get(id)!;
}

/** The keys a person may give a command in the config's `keys:`: one character, a named key, or ctrl+a character. */
export const NAMED_KEYS = ['left', 'right', 'up', 'down', 'pageup', 'pagedown', 'home', 'end', 'enter', 'esc', 'tab', 'space'] as const;

export function isKeyName(key: string): boolean {
  return [...key].length === 1 || (NAMED_KEYS as readonly string[]).includes(key) || /^ctrl\+[a-z]$/.test(key);
}

/** How a key is written in help and the footer. */
function keyLabel(key: string): string {
  return key === 'left' ? '←' : key === 'right' ? '→' : key === 'up' ? '↑' : key === 'down' ? '↓' : key.startsWith('ctrl+') ? `Ctrl-${key.slice(5).toUpperCase()}` : key;
}

/** The config's `keys:` (command → its keys, replacing the defaults). */
export type KeyOverrides = Partial<Record<CommandId, readonly string[]>>;

/**
 * The board's keys: the table with the config's `keys:` applied. A command given keys in the config
 * has those instead of its own; the help and the footer show them. `keys:` is validated with the
 * config (checkKeyOverrides), so a keymap is built from a table with each key used once.
 */
export class Keymap {
  readonly commands: readonly CommandSpec[];
  private readonly byKey: ReadonlyMap<string, CommandSpec>;

  constructor(overrides: KeyOverrides = {}) {
    this.commands = COMMANDS.map((c) => {
      const keys = overrides[c.id];
      return keys ? { ...c, keys, label: keys.map(keyLabel).join(' ') } : c;
    });
    this.byKey = new Map(this.commands.flatMap((c) => c.keys.map((k) => [k, c] as const)));
  }

  /** The command a key names on the board (named keys: `left`, `enter`, …, `ctrl+z`; else the character). */
  forKey(key: string): CommandSpec | null {
    return this.byKey.get(key) ?? null;
  }

  command(id: CommandId): CommandSpec {
    return this.commands.find((c) => c.id === id)!;
  }
}

export const DEFAULT_KEYMAP = new Keymap();

/** The command a key names with the default keys. */
export function commandForKey(key: string): CommandSpec | null {
  return DEFAULT_KEYMAP.forKey(key);
}

/** Why the config's `keys:` cannot be used (an unknown command, a bad or reserved key, a key given twice), or null. */
export function checkKeyOverrides(overrides: Record<string, readonly string[]>): { path: string[]; message: string } | null {
  for (const [id, keys] of Object.entries(overrides)) {
    if (!BY_ID.has(id as CommandId)) return { path: [id], message: `no such board command (one of ${COMMANDS.map((c) => c.id).join(' ')})` };
    const bad = keys.findIndex((k) => !isKeyName(k) || k === 'ctrl+c');
    if (bad !== -1) return { path: [id, String(bad)], message: keys[bad] === 'ctrl+c' ? 'ctrl+c is kept for quitting' : `not a key: one character, ${NAMED_KEYS.join(' ')}, or ctrl+a letter` };
  }
  const used = new Map<string, string>();
  for (const c of new Keymap(overrides as KeyOverrides).commands) {
    for (const key of c.keys) {
      const other = used.get(key);
      if (other) return { path: [overrides[c.id] ? c.id : other], message: `the key ${JSON.stringify(key)} is both ${other}'s and ${c.id}'s` };
      used.set(key, c.id);
    }
  }
  return null;
}

/** Null when the command applies to the card; else why not, in words. */
export function whyNot(spec: CommandSpec, card: { id: string; status: Status }): string | null {
  if (!spec.when || spec.when.includes(card.status)) return null;
  return `refused: ${spec.label} ${shortName(spec)} is for ${listOf(spec.when)} tasks; ${card.id} is ${card.status}`;
}

/** A command in a word or two (the footer, refusals): its `short`, else `does` up to a colon or parenthesis. */
function shortName(spec: CommandSpec): string {
  return spec.short ?? spec.does.split(/[:(]/)[0]!.trim();
}

function listOf(statuses: readonly Status[]): string {
  if (statuses.length === 1) return statuses[0]!;
  return `${statuses.slice(0, -1).join(', ')} or ${statuses.at(-1)}`;
}

/** The board's keys the footer always offers, most needed first (a narrow footer cuts the end). */
const FOOTER: readonly CommandId[] = ['help', 'quit', 'create', 'filter', 'command-line', 'mark', 'diagnostics'];

/** The footer for a card in `status`: its own keys first, then the board's most needed ones. */
export function footerFor(status: Status | null, keymap: Keymap = DEFAULT_KEYMAP): string {
  // What this card's status allows (not what any card allows: that is in help).
  const own = keymap.commands.filter((c) => !c.hidden && c.keys.length > 0 && c.when && c.when !== ANY && status !== null && c.when.includes(status) && !FOOTER.includes(c.id));
  return [...own, ...FOOTER.map((id) => keymap.command(id))].map((c) => `${c.label} ${shortName(c)}`).join(' · ');
}

/** The rows of help and the README: one per visible command. */
export function helpRows(keymap: Keymap = DEFAULT_KEYMAP): Array<{ keys: string; does: string; when: string }> {
  return keymap.commands.filter((c) => !c.hidden).map((c) => ({ keys: c.label, does: c.does, when: c.when ? (c.when === ANY ? 'any card' : c.when.join(', ')) : '' }));
}

/** The README's key table, generated: `npm run readme-keys` writes it, a test checks it. */
export function keyTableMarkdown(): string {
  const rows = helpRows().map((r) => `| \`${r.keys}\` | ${r.does} | ${r.when || '—'} |`);
  return ['| key | does | on cards that are |', '|---|---|---|', ...rows].join('\n');
}
