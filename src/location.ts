import { readFileSync } from 'node:fs';
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

/** A path, and what chose it: a flag, an environment variable, or the default. */
export interface Located {
  path: string;
  from: 'flag' | 'env' | 'default';
}

/** Named boards live in `$KANBAN_HOME/boards/SLUG/`. */
export function boardsDir(env: Env = process.env): string {
  return join(kanbanHome(env), 'boards');
}

/** A board's slug, checked: `source` says where it was given, for the error. */
export function checkSlug(slug: string, source: string): string {
  if (!SLUG.test(slug)) throw new InvalidInput(`invalid board name '${slug}' (${source}): use a-z, 0-9, _ and -, starting with a letter or digit`);
  return slug;
}

/** The board file of the named board `slug` (checked). */
export function namedBoardPath(slug: string, source: string, env: Env = process.env): string {
  return join(boardsDir(env), checkSlug(slug, source), 'board.db');
}

/** The file a named board on a server keeps its URL in (`kanban boards create SLUG --url …`), beside its logs and workspaces. */
export const BOARD_URL_FILE = 'board.url';

/**
 * The named board `slug`'s location: its server's URL when its folder holds a board.url (a board
 * shared by several hosts, named on each), else its board file.
 */
export function namedBoardLocation(slug: string, source: string, env: Env = process.env): string {
  const path = namedBoardPath(slug, source, env);
  const urlFile = join(path, '..', BOARD_URL_FILE);
  let url: string;
  try {
    url = readFileSync(urlFile, 'utf8').trim();
  } catch {
    return path;
  }
  if (!isBoardUrl(url)) throw new InvalidInput(`${urlFile} holds no postgres:// URL: fix it or remove it`);
  return url;
}

/**
 * A board URL with any password taken out: what the header, logs and messages show. The password
 * itself stays in the URL the board is opened with (and, for a worker, in KANBAN_DB).
 */
export function redactUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@?#]*):[^@/?#]*@/, '$1@').replace(/([?&]password=)[^&#]*/gi, '$1***');
}

/** Whether a board location is a PostgreSQL server's URL (`postgres://…`, `postgresql://…`) rather than a SQLite file. */
export function isBoardUrl(location: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(location);
}

/**
 * `--db` > `KANBAN_DB` > `--board` / `KANBAN_BOARD` > `$KANBAN_HOME/board.db`. A PostgreSQL URL is
 * kept as given (`path` is then the URL).
 */
export function locateBoard(options: LocationOptions, env: Env = process.env): Located {
  const db = options.db ?? envValue(env, 'KANBAN_DB');
  if (db !== undefined) {
    if (db.trim() === '') throw new InvalidInput('--db needs a path');
    return { path: isBoardUrl(db) ? db : resolve(db), from: options.db !== undefined ? 'flag' : 'env' };
  }
  const slug = options.board ?? envValue(env, 'KANBAN_BOARD');
  if (slug !== undefined) {
    const flag = options.board !== undefined;
    return { path: namedBoardLocation(slug, flag ? '--board' : 'KANBAN_BOARD', env), from: flag ? 'flag' : 'env' };
  }
  return { path: join(kanbanHome(env), 'board.db'), from: 'default' };
}

export function resolveBoardPath(options: LocationOptions, env: Env = process.env): string {
  return locateBoard(options, env).path;
}

/** `--config` > `KANBAN_CONFIG` > `$KANBAN_HOME/config.yaml`. */
export function locateConfig(options: LocationOptions, env: Env = process.env): Located {
  if (options.config !== undefined) return { path: resolve(options.config), from: 'flag' };
  const variable = envValue(env, 'KANBAN_CONFIG');
  if (variable !== undefined) return { path: resolve(variable), from: 'env' };
  return { path: join(kanbanHome(env), 'config.yaml'), from: 'default' };
}

export function resolveConfigPath(options: LocationOptions, env: Env = process.env): string {
  return locateConfig(options, env).path;
}
