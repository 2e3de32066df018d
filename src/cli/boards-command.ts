// Loaded on demand: `kanban boards [list] | create SLUG | rm SLUG`.
import { existsSync, lstatSync, mkdirSync, readdirSync, realpathSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { processesWith, processesWithOpen, nameOf } from '../dispatcher/processes.js';
import { busyTimeoutMs } from '../env.js';
import { BoardUnusable, InvalidInput, Refused, errorMessage } from '../errors.js';
import { BOARD_URL_FILE, boardsDir, checkSlug, isBoardUrl, kanbanHome, namedBoardLocation, namedBoardPath, redactUrl, resolveBoardPath } from '../location.js';
import { cleanLine } from '../sanitize.js';
import { randomHex } from '../random.js';
import { openBoard, peekBoard } from '../port/open.js';
import type { GlobalOptions } from './context.js';
import { formatBytes, formatTimestamp, printTable, writeJson, writeLine } from './output.js';

const BOARD_FILE = 'board.db';
/** The board file and what SQLite keeps beside it. */
const BOARD_FILES = [BOARD_FILE, `${BOARD_FILE}-wal`, `${BOARD_FILE}-shm`];

export interface BoardEntry {
  /** Null for the default board ($KANBAN_HOME/board.db). */
  slug: string | null;
  path: string;
  /** The board the global options and environment point at. */
  current: boolean;
  /** null when the board could not be read (`error` says why). */
  tasks: number | null;
  running: number | null;
  /** The board file and its WAL. */
  size_bytes: number;
  /** The latest change to the board file or its WAL (epoch ms). */
  last_change_at: number;
  error: string | null;
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/** A board's entry: sizes and times first (opening it could create its WAL), then its task counts. */
async function describeBoard(slug: string | null, path: string, current: string): Promise<BoardEntry> {
  const files = [path, `${path}-wal`].map(statOrNull).filter((s): s is Stats => s !== null);
  const entry: BoardEntry = {
    slug,
    path,
    current: path === current,
    tasks: null,
    running: null,
    size_bytes: files.reduce((sum, s) => sum + s.size, 0),
    last_change_at: Math.max(...files.map((s) => Math.floor(s.mtimeMs))),
    error: null,
  };
  try {
    Object.assign(entry, await peekBoard(path, busyTimeoutMs()));
  } catch (err) {
    entry.error = errorMessage(err);
  }
  return entry;
}

/** The named boards (folders with a valid slug holding a board file), by slug, after the default board. */
export async function listBoards(options: GlobalOptions): Promise<BoardEntry[]> {
  const current = resolveBoardPath(options);
  const entries: BoardEntry[] = [];
  const defaultBoard = join(kanbanHome(), BOARD_FILE);
  if (existsSync(defaultBoard)) entries.push(await describeBoard(null, defaultBoard, current));
  let names: string[] = [];
  try {
    names = readdirSync(boardsDir()).sort();
  } catch {
    // no boards folder: no named boards
  }
  for (const name of names) {
    let path: string;
    try {
      path = namedBoardPath(name, 'folder name');
    } catch {
      continue; // not a slug: not a board kanban made
    }
    if (statOrNull(path)?.isFile()) entries.push(await describeBoard(name, path, current));
    else if (statOrNull(join(dirname(path), BOARD_URL_FILE))?.isFile()) entries.push(await describeServerBoard(name, current));
  }
  return entries;
}

/** A named board on a server: its URL (shown without a password), its counts; its size is the server's business. */
async function describeServerBoard(slug: string, current: string): Promise<BoardEntry> {
  const url = namedBoardLocation(slug, 'folder name');
  const entry: BoardEntry = { slug, path: redactUrl(url), current: url === current, tasks: null, running: null, size_bytes: 0, last_change_at: Math.floor(statSync(join(boardsDir(), slug, BOARD_URL_FILE)).mtimeMs), error: null };
  try {
    Object.assign(entry, await peekBoard(url, busyTimeoutMs()));
  } catch (err) {
    entry.error = errorMessage(err);
  }
  return entry;
}


export async function boardsListCommand(options: GlobalOptions): Promise<void> {
  const boards = await listBoards(options);
  if (options.json) return writeJson(boards);
  if (boards.length === 0) {
    writeLine(`no boards in ${cleanLine(kanbanHome())}: \`kanban init\` makes the default one, \`kanban boards create SLUG\` a named one`);
    return;
  }
  printTable(
    ['', 'BOARD', 'TASKS', 'RUNNING', 'SIZE', 'LAST CHANGE', 'PATH'],
    boards.map((b) => [
      b.current ? '*' : '',
      b.slug ?? '(default)',
      b.tasks === null ? '?' : String(b.tasks),
      b.running === null ? '?' : String(b.running),
      formatBytes(b.size_bytes),
      formatTimestamp(b.last_change_at),
      cleanLine(b.error === null ? b.path : `${b.path} (unreadable: ${b.error})`),
    ]),
    [2, 3, 4],
  );
}

/** `kanban boards create SLUG`: a new named board; an existing one is refused (exit 1). */
export async function boardsCreateCommand(options: GlobalOptions, rawSlug: string, url?: string): Promise<void> {
  const slug = checkSlug(rawSlug, 'boards create');
  const path = namedBoardPath(slug, 'boards create');
  if (existsSync(path)) throw new Refused(`board ${slug} already exists at ${path}`);
  const urlFile = join(dirname(path), BOARD_URL_FILE);
  if (existsSync(urlFile)) throw new Refused(`board ${slug} already exists: ${redactUrl(namedBoardLocation(slug, 'boards create'))}`);
  if (url !== undefined) return nameServerBoard(options, slug, url, urlFile);
  const board = await openBoard(path, { busyTimeoutMs: busyTimeoutMs() });
  const { schemaVersion } = await board.describe();
  await board.close();
  if (options.json) writeJson({ slug, db: path, created: true, schema_version: schemaVersion });
  else writeLine(`created board ${slug} at ${cleanLine(path)}`);
}

/**
 * `kanban boards create SLUG --url postgres://…`: names a board on a server, so that `--board SLUG`
 * (and KANBAN_BOARD) opens it; the board is made there unless it already exists (another host named it
 * first). The URL is kept in the board's folder, readable by its owner only (it may hold a password).
 */
async function nameServerBoard(options: GlobalOptions, slug: string, url: string, urlFile: string): Promise<void> {
  if (!isBoardUrl(url)) throw new InvalidInput(`--url needs a postgres:// or postgresql:// URL, not ${JSON.stringify(redactUrl(url))}`);
  const board = await openBoard(url, { busyTimeoutMs: busyTimeoutMs() });
  let described: Awaited<ReturnType<typeof board.describe>>;
  try {
    described = await board.describe();
  } finally {
    await board.close();
  }
  mkdirSync(dirname(urlFile), { recursive: true });
  writeFileSync(urlFile, `${url}\n`, { mode: 0o600, flag: 'wx' });
  const shown = redactUrl(url);
  if (options.json) writeJson({ slug, db: shown, created: described.created === true, schema_version: described.schemaVersion });
  else writeLine(`${described.created ? 'created' : 'named'} board ${slug} at ${cleanLine(shown)}`);
}

/**
 * The folder `kanban boards rm SLUG` would remove, checked: `$KANBAN_HOME/boards/SLUG` itself, a
 * real folder (not a symbolic link, which would lead out of it) holding a board file, and nothing
 * using it.
 */
function boardToRemove(slug: string): { dir: string; db: string } {
  const boards = boardsDir();
  const dir = join(boards, slug);
  let stat: Stats;
  try {
    stat = lstatSync(dir);
  } catch {
    throw new BoardUnusable(`no board named ${slug} in ${boards}`);
  }
  if (stat.isSymbolicLink()) throw new Refused(`${dir} is a symbolic link: kanban removes only a board folder inside ${boards}, never what a link leads to; remove the link yourself`);
  if (!stat.isDirectory() || realpathSync(dir) !== join(realpathSync(boards), slug)) throw new Refused(`${dir} is not a board folder: left as it is`);
  const db = join(dir, BOARD_FILE);
  // A board on a server: only its name (and this host's logs and workspaces of it) is removed here.
  if (!statOrNull(db) && statOrNull(join(dir, BOARD_URL_FILE))?.isFile()) {
    const url = namedBoardLocation(slug, 'boards rm');
    refuseWhileInUse(slug, dir, url);
    return { dir, db: url };
  }
  if (!statOrNull(db)?.isFile() || lstatSync(db).isSymbolicLink()) throw new Refused(`${dir} holds no board file (${BOARD_FILE}): not a board, left as it is`);
  refuseWhileInUse(slug, dir, db);
  return { dir, db };
}

/**
 * Refuses while any process has the board's files open (a dispatcher, a board, a supervisor) or
 * carries it as its KANBAN_DB (a worker): Linux /proc; elsewhere it cannot tell.
 */
function refuseWhileInUse(slug: string, dir: string, db: string): void {
  const real = realpathSync(dir);
  const open = processesWithOpen(BOARD_FILES.map((name) => join(real, name)));
  const workers = processesWith([`KANBAN_DB=${db}`]).concat(real === dir ? [] : processesWith([`KANBAN_DB=${join(real, BOARD_FILE)}`]));
  const users = [...new Set([...open, ...workers])].sort((a, b) => a - b);
  if (users.length === 0) return;
  const named = users.slice(0, 3).map((pid) => `${pid} (${cleanLine(nameOf(pid))})`).join(', ');
  const more = users.length > 3 ? ` and ${users.length - 3} more` : '';
  throw new Refused(`board ${slug} is in use by process ${named}${more}: stop its dispatcher and let its workers finish (or reclaim them) first; nothing removed`);
}

/**
 * `kanban boards rm SLUG [--yes]`: removes a named board's folder (board, logs, workspaces). On a
 * terminal it asks for the slug to be typed; without one it needs --yes (else exit 2).
 */
export async function boardsRmCommand(options: GlobalOptions, rawSlug: string, yes: boolean): Promise<void> {
  const slug = checkSlug(rawSlug, 'boards rm');
  let { dir, db } = boardToRemove(slug);
  if (!yes) {
    if (!process.stdin.isTTY) throw new InvalidInput(`boards rm ${slug} needs --yes when stdin is not a terminal; nothing removed`);
    const entry = await describeBoard(slug, db, '');
    const contents = entry.tasks === null ? 'unreadable' : `${entry.tasks} tasks${entry.running ? `, ${entry.running} marked running` : ''}`;
    const prompt = `remove board ${slug} (${contents}, ${formatBytes(entry.size_bytes)}) with its logs and workspaces, ${cleanLine(dir)}?\ntype the slug to confirm: `;
    const answer = await ask(prompt);
    if (answer.trim() !== slug) throw new Refused(`not confirmed: board ${slug} was not removed`);
    ({ dir, db } = boardToRemove(slug)); // again: a dispatcher may have started while we asked
  }
  // Renamed aside first (one step), then deleted: the slug is free at once, never half a board under it.
  const aside = join(boardsDir(), `.removing-${slug}-${randomHex(4)}`);
  renameSync(dir, aside);
  try {
    rmSync(aside, { recursive: true, force: true });
  } catch (err) {
    throw new BoardUnusable(`board ${slug} was taken out of use, but not all of it could be deleted (${errorMessage(err)}): what is left is in ${aside}`);
  }
  if (options.json) writeJson({ slug, path: isBoardUrl(db) ? redactUrl(db) : db, removed: true });
  else if (isBoardUrl(db)) writeLine(`removed the name ${slug} (${cleanLine(dir)}); the board itself stays on its server, ${cleanLine(redactUrl(db))}`);
  else writeLine(`removed board ${slug} (${cleanLine(dir)})`);
}

/** One line typed on the terminal; Ctrl-C or the end of input is an empty answer. */
async function ask(question: string): Promise<string> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  prompt.on('SIGINT', () => prompt.close());
  const closed = new Promise<string>((resolve) => prompt.once('close', () => resolve('')));
  try {
    return await Promise.race([prompt.question(question), closed]);
  } finally {
    prompt.close();
  }
}
