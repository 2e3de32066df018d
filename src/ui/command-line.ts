import { isTaskId } from '../ids.js';
import { COMMANDS, type CommandId } from './commands.js';

/** What `:` understood. */
export type CommandLine =
  | { kind: 'empty' }
  | { kind: 'error'; message: string }
  | { kind: 'jump'; id: string }
  | { kind: 'filter'; text: string }
  | { kind: 'command'; id: CommandId; name: string; argument: string | null };

/** The commands `:` knows by name: every command of the table but moving about. */
const MOVES: readonly CommandId[] = ['column-left', 'column-right', 'card-up', 'card-down', 'page-up', 'page-down', 'first', 'last', 'open', 'back', 'command-line', 'filter', 'suspend'];
const NAMES: ReadonlyMap<string, CommandId> = new Map([
  ...COMMANDS.filter((c) => !MOVES.includes(c.id)).map((c) => [c.id, c.id] as const),
  ['q', 'quit'],
  ['help', 'help'],
]);

export function commandNames(): string[] {
  return [...NAMES.keys(), 'filter'].sort();
}

/** `t_1234abcd` → jump; `filter text`; `assign coder`; `schedule 2h`; `reclaim`. */
export function parseCommandLine(text: string): CommandLine {
  const trimmed = text.trim().replace(/^:/, '');
  if (trimmed === '') return { kind: 'empty' };
  const [name = '', ...rest] = trimmed.split(/\s+/);
  const argument = rest.length > 0 ? trimmed.slice(trimmed.indexOf(rest[0]!)) : null;
  if (isTaskId(name.toLowerCase())) return { kind: 'jump', id: name.toLowerCase() };
  if (name === 'filter') return { kind: 'filter', text: argument ?? '' };
  const id = NAMES.get(name);
  if (!id) return { kind: 'error', message: `:${name}: no such command (Tab lists them; a task id jumps to it)` };
  return { kind: 'command', id, name, argument };
}

/** Tab: a command's name, or for `assign`, a profile's. */
export function completeCommandLine(value: string, profiles: readonly string[]): { value: string; choices: string[] } | null {
  if (/^\S*$/.test(value)) {
    const name = completeWord(value, commandNames());
    // One command left: a space after it, ready for its argument.
    return name && { ...name, value: name.choices.length === 1 ? `${name.value} ` : name.value };
  }
  const assign = /^assign\s+(\S*)$/.exec(value);
  const profile = assign ? completeWord(assign[1]!, profiles) : null;
  return profile && { ...profile, value: `assign ${profile.value}` };
}

/** Tab in a one-word prompt: the longest common start of the choices that start with what was typed. */
export function completeWord(value: string, choices: readonly string[]): { value: string; choices: string[] } | null {
  const matches = choices.filter((c) => c.startsWith(value.trim()));
  if (matches.length === 0) return null;
  return { value: commonPrefix(matches), choices: matches };
}

export function commonPrefix(words: readonly string[]): string {
  let prefix = words[0] ?? '';
  for (const word of words) while (!word.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix;
}
