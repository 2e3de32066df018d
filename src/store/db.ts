import Database from 'better-sqlite3';
import { closeSync, constants, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { monotonicMs, systemClock, type Clock } from '../clock.js';
import { DEFAULT_BUSY_TIMEOUT_MS } from '../env.js';
import { BoardCorrupt, BoardUnusable, errorMessage } from '../errors.js';
import { coreError, isBusy, isCorruption, isIoError, lockedError, outcomeUnknown } from './errors.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';
import { busyBackoff, WriteTurns } from './turns.js';
import { boardDiskProblem } from '../faults.js';
import { openDatabase } from './driver.js';
import { cryptoModule } from '../random.js';

export interface OpenOptions {
  clock?: Clock;
  busyTimeoutMs?: number;
  /**
   * Run the full check (PRAGMA quick_check, every page of the file) before anything else (default).
   * Its cost grows with the whole file (~300 ms at 100k tasks), so only what lives long checks it:
   * a dispatcher at its start (and every INTEGRITY_RECHECK_MS while it runs: SqliteBoard.maintain), `init`,
   * and any open that migrates (migrating writes). Every other open (a command, a supervisor) makes
   * the cheap check (`cheapCheck`), and SQLite checks every page a statement reads: corruption met
   * is refused and copied aside all the same.
   */
  checkIntegrity?: boolean;
  /**
   * For commands that only read: a board that does not exist is an error (naming `kanban init`), not
   * created, and a file that is not a SQLite database is refused without a copy beside it.
   */
  mustExist?: boolean;
  /**
   * For the asynchronous port (`transaction`): once the board is open, SQLite's own busy handler is
   * off (it sleeps inside the call, freezing the event loop); a busy board is waited for between
   * attempts instead. Opening itself waits as always.
   */
  waitAsync?: boolean;
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');
const WAL_AUTOCHECKPOINT_PAGES = 1000;

/** An open board: the connection, its clock, and the transaction helpers every store function uses. */
export class Store {
  private readonly statements = new Map<string, Database.Statement>();
  /** The end of the last transaction queued by `transaction`. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Fair turns at the write lock with other processes (turns.ts). */
  private readonly turns: WriteTurns;

  constructor(
    readonly db: Database.Database,
    readonly path: string,
    readonly clock: Clock,
    readonly busyTimeoutMs: number,
    readonly journalMode: string,
  ) {
    this.turns = new WriteTurns(path === ':memory:' ? null : `${path}-wait`);
  }

  /** A prepared statement, compiled once per connection. */
  stmt(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * Runs `body` in a BEGIN IMMEDIATE transaction. BUSY (from BEGIN or COMMIT) is retried with jitter
   * until the busy timeout; past it the board counts as locked (BoardUnusable). If the body throws,
   * the transaction is rolled back when SQLite has not already done so, and the body's own error is
   * what the caller sees. A COMMIT that fails with an I/O error may have reached the journal: it is
   * WriteOutcomeUnknown, never "changed nothing". Called inside a transaction, it just runs the body.
   */
  writeTxn<T>(body: () => T): T {
    if (this.db.inTransaction) return body();
    try {
      return this.writeOutermost(body);
    } catch (err) {
      throw coreError(err, this.path, this.busyTimeoutMs);
    }
  }

  private writeOutermost<T>(body: () => T): T {
    const deadline = monotonicMs() + this.busyTimeoutMs;
    const exec = (sql: string) => () => this.db.exec(sql);
    retryWhileBusy(exec('BEGIN IMMEDIATE'), deadline, this.path, this.busyTimeoutMs);
    let result: T;
    try {
      result = body();
    } catch (err) {
      this.rollbackQuietly();
      throw err;
    }
    try {
      retryWhileBusy(exec('COMMIT'), deadline, this.path, this.busyTimeoutMs);
    } catch (err) {
      this.rollbackQuietly();
      throw isIoError(err) ? outcomeUnknown(err) : err;
    }
    return result;
  }

  /**
   * Runs `body` in a transaction (BEGIN IMMEDIATE for a write), waiting for a busy board between
   * attempts without blocking the event loop; past the busy timeout the board counts as locked. One
   * transaction at a time on this connection: calls queue. `body` must only touch the board (it may
   * run again after a BUSY rolled it back). Errors as writeTxn's.
   */
  transaction<T>(kind: 'read' | 'write', body: () => T): Promise<T> {
    const result = this.queue.then(() =>
      this.attempt(kind, body, monotonicMs() + this.busyTimeoutMs).catch((err: unknown) => {
        throw coreError(err, this.path, this.busyTimeoutMs);
      }),
    );
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every queued transaction has ended. */
  settled(): Promise<void> {
    return this.queue.then(() => undefined);
  }

  private async attempt<T>(kind: 'read' | 'write', body: () => T, deadline: number): Promise<T> {
    if (kind === 'write') await this.turns.before();
    try {
      return await this.attemptUntil(kind, body, deadline);
    } finally {
      if (kind === 'write') this.turns.after();
    }
  }

  private async attemptUntil<T>(kind: 'read' | 'write', body: () => T, deadline: number): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let result: T;
      try {
        this.db.exec(kind === 'write' ? 'BEGIN IMMEDIATE' : 'BEGIN');
        result = body();
      } catch (err) {
        this.rollbackQuietly();
        if (isBusy(err) && kind === 'write') this.turns.waited();
        if (isBusy(err) && (await waitBeforeRetry(attempt, deadline))) continue;
        throw err; // a BUSY past the deadline leaves as BoardLocked, through coreError
      }
      for (let commit = 0; ; commit++) {
        try {
          this.db.exec('COMMIT');
          return result;
        } catch (err) {
          // Still in the transaction while it waits: the queue keeps this connection's other callers out.
          if (isBusy(err) && (await waitBeforeRetry(commit, deadline))) continue;
          this.rollbackQuietly();
          throw isIoError(err) ? outcomeUnknown(err) : err;
        }
      }
    }
  }

  /** Runs `body` in a read transaction, so that several queries see one snapshot. */
  readTxn<T>(body: () => T): T {
    if (this.db.inTransaction) return body();
    try {
      this.db.exec('BEGIN');
      const result = body();
      this.db.exec('COMMIT');
      return result;
    } catch (err) {
      this.rollbackQuietly();
      throw coreError(err, this.path, this.busyTimeoutMs);
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private rollbackQuietly(): void {
    if (!this.db.inTransaction) return;
    try {
      this.db.exec('ROLLBACK');
    } catch {
      // SQLite may have ended the transaction itself; the body's error is the one that matters.
    }
  }
}

/**
 * Runs `action`, retrying it with jitter while SQLite answers BUSY, until `deadline`; past it the
 * board counts as locked. Needed beside the busy timeout because SQLite returns BUSY at once, without
 * waiting, where waiting could deadlock (BEGIN IMMEDIATE, COMMIT, switching a new board to WAL).
 */
function retryWhileBusy<T>(action: () => T, deadline: number, path: string, busyTimeoutMs: number): T {
  for (let attempt = 0; ; attempt++) {
    try {
      return action();
    } catch (err) {
      if (!isBusy(err)) throw err;
      const left = deadline - monotonicMs();
      if (left <= 0) throw lockedError(path, busyTimeoutMs);
      sleepSync(Math.min(left, busyBackoff(attempt)));
    }
  }
}

/** Waits a jittered backoff before another attempt; false, at once, when the deadline has passed. */
async function waitBeforeRetry(attempt: number, deadline: number): Promise<boolean> {
  const left = deadline - monotonicMs();
  if (left <= 0) return false;
  await new Promise((resolve) => setTimeout(resolve, Math.min(left, busyBackoff(attempt))));
  return true;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

class CorruptBoard extends Error {}

/**
 * Opens (creating on first use) the board at `path`: integrity check, pragmas, migrations. A file
 * that is not a SQLite database or fails quick_check is refused and copied aside, never replaced.
 * If anything fails after the connection is open, it is closed before the error leaves.
 */
export function openStore(path: string, options: OpenOptions = {}): Store {
  const clock = options.clock ?? systemClock;
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  const inMemory = path === ':memory:';
  if (!inMemory) {
    if (options.mustExist && !existsSync(path)) throw new BoardUnusable(`no board at ${path}: \`kanban init\` creates one (so does any command that writes)`);
    prepareDirectory(path);
    if (!hasSqliteHeader(path)) {
      if (options.mustExist) throw new BoardUnusable(`${path} is not a kanban board (not a SQLite database); it was left as it is`);
      throw corruptBoardError(path, 'it is not a SQLite database');
    }
  }
  let db: Database.Database;
  try {
    db = openDatabase(path);
  } catch (err) {
    const why = boardDiskProblem(path);
    throw new BoardUnusable(`cannot open board ${path}: ${errorMessage(err)}${why ? ` (${why})` : ''}`);
  }
  try {
    db.pragma(`busy_timeout = ${Math.round(busyTimeoutMs)}`);
    // Before anything that could write (journal mode, migrations): a corrupt file stays as it is.
    if (options.checkIntegrity !== false || userVersion(db) !== SCHEMA_VERSION) checkIntegrity(db);
    else cheapCheck(db);
    // A new board gives the space `kanban gc` frees back to the file system as it goes; it can only be
    // chosen before the first table.
    if (userVersion(db) === 0 && db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get() === 0) db.pragma('auto_vacuum = INCREMENTAL');
    const journalMode = retryWhileBusy(() => useWalOrRollbackJournal(db), monotonicMs() + busyTimeoutMs, path, busyTimeoutMs);
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('secure_delete = ON');
    db.pragma('cell_size_check = ON');
    db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    const store = new Store(db, path, clock, busyTimeoutMs, journalMode);
    migrate(store);
    // Opening waits as any command does (it is done once, before anything else); from here on a busy
    // board is waited for between attempts, with the event loop free.
    if (options.waitAsync) db.pragma('busy_timeout = 0');
    return store;
  } catch (err) {
    db.close();
    if (err instanceof CorruptBoard || isCorruption(err)) throw corruptBoardError(path, errorMessage(err));
    if (err instanceof BoardUnusable) throw err;
    if (isBusy(err)) throw lockedError(path, busyTimeoutMs);
    const why = inMemory ? null : boardDiskProblem(path);
    throw new BoardUnusable(`cannot use board ${path}: ${errorMessage(err)}${why ? ` (${why})` : ''}`);
  }
}

/** A -wal file at least this big is truncated by checkpointWal (the autocheckpoint resets a WAL, never shrinks it). */
export const WAL_TRUNCATE_BYTES = 1024 * 1024;

export interface CheckpointOptions {
  /** Checkpoint only when the -wal file is at least this big (default WAL_TRUNCATE_BYTES; 0: whenever it is not empty). */
  minWalBytes?: number;
  /** Checkpoint whatever the size: after a write failed with SQLITE_FULL, say. */
  force?: boolean;
}

export interface CheckpointResult {
  /** The WAL is under control: nothing was needed, or it was checkpointed and truncated. */
  ok: boolean;
  /** A checkpoint was tried. */
  ran: boolean;
  /** The -wal file's size before, in bytes (0 when there is none). */
  walBytes: number;
  /** Why it did not work (SQLITE_FULL, SQLITE_BUSY, SQLITE_IOERR…, or `busy` when readers kept it from finishing). */
  error?: string;
}

/**
 * Moves the WAL into the board and truncates the -wal file to zero bytes (PRAGMA
 * wal_checkpoint(TRUNCATE)) when it has grown past `minWalBytes`, so that a WAL grown while the disk
 * was full does not stay big, and a WAL does not keep its high-water size on a small disk. Cheap
 * enough for every tick: one stat of the -wal file, and a checkpoint only when it is big (or
 * `force`). It waits for no one (busy timeout 0 meanwhile): a writer or a reader in the way makes it
 * answer `ok: false` and the next call tries again. Never throws: a full disk, I/O errors and a
 * locked board are answered, not raised. Skipped inside a transaction and for a board not in WAL mode.
 */
export function checkpointWal(store: Store, options: CheckpointOptions = {}): CheckpointResult {
  const walBytes = walSize(store.path);
  if (store.journalMode !== 'wal' || !store.db.open || store.db.inTransaction) return { ok: walBytes === 0 || store.journalMode !== 'wal', ran: false, walBytes };
  if (!options.force && (walBytes === 0 || walBytes < (options.minWalBytes ?? WAL_TRUNCATE_BYTES))) return { ok: true, ran: false, walBytes };
  const busyTimeout = store.db.pragma('busy_timeout', { simple: true }) as number;
  try {
    store.db.pragma('busy_timeout = 0');
    const [row] = store.db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number; log: number; checkpointed: number }>;
    if (row && row.busy !== 0) return { ok: false, ran: true, walBytes, error: 'busy' };
    return { ok: true, ran: true, walBytes };
  } catch (err) {
    const code = (err as { code?: unknown })?.code;
    return { ok: false, ran: true, walBytes, error: typeof code === 'string' ? code : errorMessage(err) };
  } finally {
    try {
      store.db.pragma(`busy_timeout = ${busyTimeout}`);
    } catch {
      // the connection is failing: the next statement will say so
    }
  }
}

function walSize(path: string): number {
  if (path === ':memory:') return 0;
  try {
    return statSync(`${path}-wal`).size;
  } catch {
    return 0;
  }
}

function prepareDirectory(path: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (err) {
    throw new BoardUnusable(`cannot create the board's folder ${dirname(path)}: ${errorMessage(err)}`);
  }
}

/** A missing or empty file is a new board; anything else must start with the SQLite header. */
function hasSqliteHeader(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw new BoardUnusable(`cannot read board ${path}: ${errorMessage(err)}`);
  }
  try {
    if (statSync(path).isDirectory()) throw new BoardUnusable(`cannot use board ${path}: it is a directory`);
    const header = Buffer.alloc(SQLITE_HEADER.length);
    const read = readSync(fd, header, 0, header.length, 0);
    return read === 0 || (read === header.length && header.equals(SQLITE_HEADER));
  } finally {
    closeSync(fd);
  }
}

/** How often a long-lived opener (a dispatcher) runs the full check again. */
export const INTEGRITY_RECHECK_MS = 3_600_000;

/**
 * The full check, on an open board (a dispatcher's, every INTEGRITY_RECHECK_MS): a corrupt page
 * anywhere is `BoardCorrupt`, which the adapter refuses and copies aside as at open.
 */
export function verifyIntegrity(store: Store): void {
  try {
    checkIntegrity(store.db);
  } catch (err) {
    if (err instanceof CorruptBoard) throw new BoardCorrupt(err.message);
    throw err;
  }
}

/**
 * What every open checks, in microseconds whatever the file's size (the header was read before):
 * the schema parses (a garbled first page or schema table fails here), the page size is one SQLite
 * makes, and the free list is no longer than the file. A corrupt page elsewhere is not looked for:
 * SQLite finds it if a statement reads it, and the full check (`checkIntegrity`) does.
 */
function cheapCheck(db: Database.Database): void {
  db.prepare('SELECT count(*) FROM sqlite_schema').get();
  const pageSize = Number(db.pragma('page_size', { simple: true }));
  const pages = Number(db.pragma('page_count', { simple: true }));
  const free = Number(db.pragma('freelist_count', { simple: true }));
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) throw new CorruptBoard(`page size ${pageSize} is not one SQLite makes`);
  if (free > pages) throw new CorruptBoard(`the free list (${free} pages) is longer than the file (${pages} pages)`);
}

function checkIntegrity(db: Database.Database): void {
  const rows = db.pragma('quick_check') as Array<{ quick_check: string }>;
  const problem = quickCheckProblem(rows.map((row) => row.quick_check));
  if (problem !== null) throw new CorruptBoard(problem);
}

/** What `PRAGMA quick_check` found, in one line (null: nothing, the answer is `ok`). */
export function quickCheckProblem(lines: readonly string[]): string | null {
  if ((lines[0] ?? 'no answer') === 'ok') return null;
  const problems = lines.map((line) => line.replace('*** in database main ***', '').trim()).join('; ');
  const oneLine = (problems || 'no answer').replace(/\s+/g, ' ');
  return `quick_check: ${oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine}`;
}

function useWalOrRollbackJournal(db: Database.Database): string {
  const mode = String(db.pragma('journal_mode = WAL', { simple: true }));
  if (mode === 'wal' || mode === 'memory') return mode;
  // WAL needs shared memory; where the file system cannot provide it, a rollback journal still works.
  return String(db.pragma('journal_mode = DELETE', { simple: true }));
}

function migrate(store: Store): void {
  const current = userVersion(store.db);
  if (current > SCHEMA_VERSION) {
    throw new BoardUnusable(
      `board ${store.path} was written by a newer kanban (schema version ${current}; this kanban knows up to ${SCHEMA_VERSION}): upgrade kanban`,
    );
  }
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    // PRAGMA foreign_keys is a no-op inside a transaction: it is switched around it.
    if (migration.rebuildsTables) store.db.pragma('foreign_keys = OFF');
    try {
      store.writeTxn(() => {
        // Another process may have migrated while this one waited for the lock.
        if (userVersion(store.db) >= migration.version) return;
        migration.up(store.db);
        const broken = store.db.pragma('foreign_key_check') as unknown[];
        if (broken.length > 0) throw new BoardUnusable(`migration ${migration.version} of ${store.path} would break ${broken.length} references`);
        store.db.pragma(`user_version = ${migration.version}`);
      });
    } finally {
      if (migration.rebuildsTables) store.db.pragma('foreign_keys = ON');
    }
  }
}

export function userVersion(db: Database.Database): number {
  return Number(db.pragma('user_version', { simple: true }));
}

/** The error for a board found corrupt: the file is left as it is and copied aside (once per content). */
export function corruptBoardError(path: string, detail: string): BoardUnusable {
  let saved: string;
  try {
    saved = `a copy was saved as ${quarantine(path)}`;
  } catch (err) {
    saved = `no copy could be saved (${errorMessage(err)})`;
  }
  return new BoardUnusable(`board ${path} is corrupt (${detail}); it was left as it is and ${saved}`);
}

/**
 * Copies a corrupt board (and its -wal/-shm) to `<db>.corrupt.<sha256 prefix>.bak` beside it. The
 * same bytes make the same name, so opening a corrupt board again makes no second copy. Each file is
 * copied to a temporary name and renamed, so a backup that exists is a whole one.
 */
export function quarantine(path: string): string {
  const hash = cryptoModule().createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16);
  const backup = `${path}.corrupt.${hash}.bak`;
  if (existsSync(backup)) return backup;
  for (const suffix of ['-wal', '-shm', '']) {
    if (!existsSync(path + suffix)) continue;
    const temporary = `${backup}${suffix}.tmp-${process.pid}`;
    copyFileSync(path + suffix, temporary, constants.COPYFILE_EXCL);
    renameSync(temporary, backup + suffix);
  }
  return backup;
}
