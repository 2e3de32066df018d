import { describe, expect, it } from 'vitest';
import { BoardCorrupt, BoardFault, BoardLocked, BoardUnusable, Refused, WriteOutcomeUnknown } from '../../../src/errors.js';
import { infrastructureFault, isDiskFault } from '../../../src/faults.js';
import { coreError, outcomeUnknown } from '../../../src/store/errors.js';
import { forceTask, testStore } from '../../helpers/board.js';
import { createTask } from '../../../src/store/tasks.js';

/** An error as better-sqlite3 throws it: a message and a SQLite code. */
const sqlite = (code: string, message = 'it failed') => Object.assign(new Error(message), { code });

describe("SQLite's errors, as the rest of the program sees them", () => {
  it('maps each kind to a core error, and what the machine did wrong to the fault the breaker forgives', () => {
    const map = (err: unknown) => coreError(err, '/boards/b.db', 5000);
    expect(map(sqlite('SQLITE_BUSY_SNAPSHOT'))).toEqual(new BoardLocked('board /boards/b.db is locked by another process (waited 5000 ms)'));
    expect(map(sqlite('SQLITE_CORRUPT_INDEX', 'bad page'))).toEqual(new BoardCorrupt('bad page'));
    expect(map(sqlite('SQLITE_NOTADB'))).toBeInstanceOf(BoardCorrupt);
    const full = map(sqlite('SQLITE_FULL', 'database or disk is full'));
    expect(full).toBeInstanceOf(BoardFault);
    expect(full).toMatchObject({ fault: 'disk full', message: 'board error (SQLITE_FULL): database or disk is full' });
    expect(infrastructureFault(full)).toBe('disk full');
    expect(isDiskFault(full)).toBe(true);
    expect(isDiskFault(map(sqlite('SQLITE_READONLY_DBMOVED')))).toBe(true);
    expect(infrastructureFault(map(sqlite('SQLITE_IOERR_WRITE')))).toBe('I/O error');
    const constraint = map(sqlite('SQLITE_CONSTRAINT_UNIQUE'));
    expect(constraint).toBeInstanceOf(BoardUnusable);
    expect(constraint).not.toBeInstanceOf(BoardFault); // a bug of ours is not the machine's fault
    expect(infrastructureFault(constraint)).toBe('board unusable');
    expect(infrastructureFault(outcomeUnknown(sqlite('SQLITE_IOERR_FSYNC')))).toBe('I/O error');
    expect(outcomeUnknown(sqlite('SQLITE_IOERR_FSYNC'))).toBeInstanceOf(WriteOutcomeUnknown);
  });

  it('leaves our own errors and errors that are not SQLite’s as they are', () => {
    const refused = new Refused('no');
    const plain = new TypeError('oops');
    const system = Object.assign(new Error('no space'), { code: 'ENOSPC' });
    for (const err of [refused, plain, system, 'a string']) expect(coreError(err, 'b.db', 1)).toBe(err);
    expect(infrastructureFault(Object.assign(new Error(), { code: 'constructor' }))).toBeNull();
  });

  it('a failure inside a transaction reaches the caller as a core error', () => {
    const store = testStore();
    const { task } = createTask(store, { title: 'x' });
    store.db.exec(`CREATE TRIGGER no_titles BEFORE UPDATE OF title ON tasks BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`);
    const failed = (() => {
      try {
        store.writeTxn(() => forceTask(store, task.id, { title: 'y' }));
      } catch (err) {
        return err;
      }
    })();
    expect(failed).toBeInstanceOf(BoardUnusable);
    expect((failed as Error).message).toBe('board error (SQLITE_CONSTRAINT_TRIGGER): disk on fire');
  });
});
