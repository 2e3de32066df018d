import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BoardUnusable } from '../../src/errors.js';
import { openStore } from '../../src/store/db.js';
import { SCHEMA_VERSION } from '../../src/store/schema.js';
import { createTask, listTasks } from '../../src/store/tasks.js';
import { fileHash } from '../helpers/cli.js';
import { tempDir, testStore } from '../helpers/board.js';
import { exited, fixture, startUntil } from '../helpers/processes.js';

/** File descriptors this process holds on `path` (a connection left open would show here). */
function openDescriptors(path: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false;
    }
  }).length;
}

/** Runs a node process per argv at once; each must exit 0 (their stderr is the failure message). */
async function expectAllSucceed(argvs: string[][]): Promise<void> {
  const children = argvs.map((argv) => spawn(process.execPath, argv, { stdio: ['ignore', 'ignore', 'pipe'] }));
  const stderr = children.map(() => '');
  children.forEach((child, i) => child.stderr!.on('data', (chunk) => (stderr[i] += chunk)));
  const codes = await Promise.all(children.map(exited));
  expect(codes, stderr.join('\n')).toEqual(argvs.map(() => 0));
}

function boardWithTasks(count: number): string {
  const path = join(tempDir(), 'board.db');
  const store = openStore(path);
  for (let i = 0; i < count; i++) createTask(store, { title: `task ${i}`, body: 'x'.repeat(200) });
  store.close();
  return path;
}

describe('opening a board', () => {
  it('creates the folder and the file on first use', () => {
    const path = join(tempDir(), 'nested', 'deeper', 'board.db');
    openStore(path).close();
    expect(existsSync(path)).toBe(true);
  });

  it('sets the pragmas the contract relies on', () => {
    const store = openStore(join(tempDir(), 'board.db'), { busyTimeoutMs: 1234 });
    const pragma = (name: string) => store.db.pragma(name, { simple: true });
    expect(store.journalMode).toBe('wal');
    expect(pragma('journal_mode')).toBe('wal');
    expect(pragma('synchronous')).toBe(2); // FULL
    expect(pragma('busy_timeout')).toBe(1234);
    expect(pragma('foreign_keys')).toBe(1);
    expect(pragma('secure_delete')).toBe(1);
    expect(pragma('cell_size_check')).toBe(1);
    expect(pragma('wal_autocheckpoint')).toBe(1000);
    store.close();
  });

  it('leaves no WAL behind once the last connection closes', () => {
    const path = boardWithTasks(3);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('refuses a board from a newer kanban, unchanged, with its connection closed', () => {
    const path = boardWithTasks(1);
    const raw = new Database(path);
    raw.pragma('user_version = 99');
    raw.close();
    const before = fileHash(path);
    expect(() => openStore(path)).toThrowError(BoardUnusable);
    expect(() => openStore(path)).toThrowError(/written by a newer kanban \(schema version 99; this kanban knows up to \d+\): upgrade kanban/);
    expect(openDescriptors(path)).toBe(0);
    expect(fileHash(path)).toBe(before);
  });

  it('refuses a directory and an unreachable folder as unusable', () => {
    const dir = tempDir();
    expect(() => openStore(dir)).toThrowError(/it is a directory/);
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'x');
    expect(() => openStore(join(file, 'board.db'))).toThrowError(/cannot create the board's folder/);
  });
});

describe('writeTxn', () => {
  it('rolls back every write when the body throws', () => {
    const store = testStore();
    expect(() =>
      store.writeTxn(() => {
        createTask(store, { title: 'lost' });
        throw new Error('body failed');
      }),
    ).toThrowError('body failed');
    expect(listTasks(store)).toEqual([]);
  });

  it('gives the body’s own error when SQLite already rolled back, never "cannot rollback"', () => {
    const store = testStore();
    expect(() =>
      store.writeTxn(() => {
        createTask(store, { title: 'lost' });
        store.db.exec('ROLLBACK');
        throw new Error('the original failure');
      }),
    ).toThrowError(/^the original failure$/);
    // A trigger's RAISE(ROLLBACK) ends the transaction inside SQLite before the error reaches us.
    store.db.exec(`CREATE TEMP TRIGGER no_bad_titles BEFORE INSERT ON tasks WHEN NEW.title = 'bad'
      BEGIN SELECT RAISE(ROLLBACK, 'bad titles are rolled back'); END`);
    expect(() => store.writeTxn(() => createTask(store, { title: 'bad' }))).toThrowError(/^board error \(SQLITE_CONSTRAINT_TRIGGER\): bad titles are rolled back$/);
    expect(store.db.inTransaction).toBe(false);
    createTask(store, { title: 'fine' });
    expect(listTasks(store).map((t) => t.title)).toEqual(['fine']);
  });

  it('retries BUSY with its own backoff until another process lets go', async () => {
    const path = boardWithTasks(1);
    const store = openStore(path, { busyTimeoutMs: 5000 });
    store.db.pragma('busy_timeout = 0'); // so every BUSY reaches writeTxn's own retry loop
    const holder = await startUntil('hold-lock.mjs', [path, '400'], 'locked');
    const started = performance.now();
    createTask(store, { title: 'after the lock' });
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThan(100);
    expect(await exited(holder)).toBe(0);
    expect(listTasks(store)).toHaveLength(2);
    store.close();
  });

  it('gives up with BoardUnusable once the busy timeout has passed', async () => {
    const path = boardWithTasks(1);
    const store = openStore(path, { busyTimeoutMs: 300 });
    const holder = await startUntil('hold-lock.mjs', [path, '1500'], 'locked');
    expect(() => createTask(store, { title: 'never written' })).toThrowError(/is locked by another process \(waited 300 ms\)/);
    await exited(holder);
    expect(listTasks(store)).toHaveLength(1);
    store.close();
  });

  it.each([
    ['an existing board', () => boardWithTasks(0)],
    ['a board neither has created yet', () => join(tempDir(), 'new', 'board.db')],
  ])('lets two processes write at once without losing a write, on %s', async (_name, makePath) => {
    const path = makePath();
    await expectAllSucceed([[fixture('write-burst.mjs'), path, '150'], [fixture('write-burst.mjs'), path, '150']]);
    const store = openStore(path);
    expect(listTasks(store)).toHaveLength(300);
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    store.close();
  });

  // Found by CI: switching a new board to WAL can answer BUSY at once, without waiting, because
  // SQLite sees that waiting could deadlock. One pair of processes meets it ~2% of the time.
  it('lets two processes create the same new board at the same moment, 100 times over', async () => {
    const dir = tempDir();
    await expectAllSucceed([
      [fixture('open-fresh.mjs'), dir, '100', 'a', 'b'],
      [fixture('open-fresh.mjs'), dir, '100', 'b', 'a'],
    ]);
    for (let i = 0; i < 100; i++) {
      const store = openStore(join(dir, `board-${i}.db`));
      expect([store.journalMode, store.db.pragma('user_version', { simple: true })]).toEqual(['wal', SCHEMA_VERSION]);
      store.close();
    }
  });
});

describe('a corrupt board', () => {
  function backups(path: string): string[] {
    const dir = join(path, '..');
    return readdirSync(dir).filter((name) => name.includes('.corrupt.'));
  }

  function expectQuarantinedThreeTimes(path: string, reason: RegExp): void {
    const original = readFileSync(path);
    for (let i = 0; i < 3; i++) {
      expect(() => openStore(path)).toThrowError(BoardUnusable);
      expect(() => openStore(path)).toThrowError(reason);
      expect(openDescriptors(path)).toBe(0);
    }
    const hash = fileHash(path).slice(0, 16);
    expect(backups(path).filter((n) => !n.endsWith('-wal') && !n.endsWith('-shm'))).toEqual([`board.db.corrupt.${hash}.bak`]);
    expect(readFileSync(path).equals(original)).toBe(true);
    expect(readFileSync(`${path}.corrupt.${hash}.bak`).equals(original)).toBe(true);
  }

  it('that is not a SQLite file is refused, kept, and copied aside once', () => {
    const path = join(tempDir(), 'board.db');
    writeFileSync(path, 'this is a grocery list, not a board\n'.repeat(50));
    expectQuarantinedThreeTimes(path, /board .*board\.db is corrupt \(it is not a SQLite database\); it was left as it is and a copy was saved as .*board\.db\.corrupt\.[0-9a-f]{16}\.bak/);
  });

  it('that fails quick_check is refused, kept, and copied aside once', () => {
    const path = boardWithTasks(300);
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(64, 0xff), 0, 64, 4096 * 3); // scribble over a b-tree page header
    closeSync(fd);
    expectQuarantinedThreeTimes(path, /is corrupt \(quick_check: .*\)/);
  });

  it('a corrupt page off the way is left to the full check: an open without it (a command, a supervisor) goes on, the full one (a dispatcher, init) refuses', () => {
    const path = boardWithTasks(300);
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(64, 0xff), 0, 64, 4096 * 3); // scribble over a b-tree page header
    closeSync(fd);
    const store = openStore(path, { checkIntegrity: false });
    store.close();
    expect(backups(path)).toEqual([]);
    expect(() => openStore(path)).toThrowError(/is corrupt \(quick_check: .*\)/);
  });

  it('the cheap check every open makes refuses a header whose page size or free list cannot be, in any file size', () => {
    for (const [offset, bytes, reason] of [
      [16, [0x00, 0x30], /is corrupt \(.*\)/], // a page size of 48 bytes
      [36, [0x7f, 0xff, 0xff, 0xff], /is corrupt \(.*free list.*longer than the file.*\)/], // a free list of 2^31 pages
    ] as Array<[number, number[], RegExp]>) {
      const path = boardWithTasks(20);
      const fd = openSync(path, 'r+');
      writeSync(fd, Buffer.from(bytes), 0, bytes.length, offset);
      closeSync(fd);
      expect(() => openStore(path, { checkIntegrity: false })).toThrowError(reason);
      expect(backups(path)).toHaveLength(1);
    }
  });

  it('is copied with its -wal and -shm', () => {
    const path = join(tempDir(), 'board.db');
    writeFileSync(path, 'garbage');
    writeFileSync(`${path}-wal`, 'wal bytes');
    writeFileSync(`${path}-shm`, 'shm bytes');
    expect(() => openStore(path)).toThrowError(BoardUnusable);
    const backup = `${path}.corrupt.${fileHash(path).slice(0, 16)}.bak`;
    expect(readFileSync(`${backup}-wal`, 'utf8')).toBe('wal bytes');
    expect(readFileSync(`${backup}-shm`, 'utf8')).toBe('shm bytes');
  });

  it('a different corruption of the same file gets its own copy', () => {
    const path = join(tempDir(), 'board.db');
    writeFileSync(path, 'first garbage');
    expect(() => openStore(path)).toThrowError(BoardUnusable);
    writeFileSync(path, 'second garbage');
    expect(() => openStore(path)).toThrowError(BoardUnusable);
    expect(backups(path)).toHaveLength(2);
  });


  it('is never replaced by a new empty board', () => {
    const path = join(tempDir(), 'board.db');
    writeFileSync(path, 'not a board');
    expect(() => openStore(path)).toThrowError(BoardUnusable);
    expect(readFileSync(path, 'utf8')).toBe('not a board');
    copyFileSync(path, `${path}.copy`);
    expect(() => openStore(path)).toThrowError(BoardUnusable);
    expect(readFileSync(path).equals(readFileSync(`${path}.copy`))).toBe(true);
  });
});
