import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { InvalidInput } from './errors.js';

/** Where the board, its logs and the config live (CONTRACT.md "Where the board lives"). */
export interface LocationOptions {
  db?: string | undefined;
  board?: string | undefined;
  config?: string | undefined;
}

type Env = Record<string, string | undefined>;

const SLUG = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** An empty variable counts as unset, as shells make it easy to export one by accident. */
function envValue(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

export function kanbanHome(env: Env = process.env): string {
  const explicit = envValue(env, 'KANBAN_HOME');
  if (explicit) return resolve(explicit);
  const xdg = envValue(env, 'XDG_DATA_HOME');
  return xdg ? resolve(xdg, 'kanban') : join(homedir(), '.local', 'share', 'kanban');
}

/** `--db` > `KANBAN_DB` > `--board` / `KANBAN_BOARD` > `$KANBAN_HOME/board.db`. */
export function resolveBoardPath(options: LocationOptions, env: Env = process.env): string {
  const db = options.db ?? envValue(env, 'KANBAN_DB');
  if (db !== undefined) {
    if (db.trim() === '') throw new InvalidInput('--db needs a path');
    return resolve(db);
  }
  const slug = options.board ?? envValue(env, 'KANBAN_BOARD');
  if (slug !== undefined) {
    const source = options.board !== undefined ? '--board' : 'KANBAN_BOARD';
    if (!SLUG.test(slug)) {
      throw new InvalidInput(`invalid board name '${slug}' (${source}): use a-z, 0-9, _ and -, starting with a letter or digit`);
    }
    return join(kanbanHome(env), 'boards', slug, 'board.db');
  }
  return join(kanbanHome(env), 'board.db');
}

/** `--config` > `KANBAN_CONFIG` > `$KANBAN_HOME/config.yaml`. */
export function resolveConfigPath(options: LocationOptions, env: Env = process.env): string {
  const explicit = options.config ?? envValue(env, 'KANBAN_CONFIG');
  return explicit !== undefined ? resolve(explicit) : join(kanbanHome(env), 'config.yaml');
}
