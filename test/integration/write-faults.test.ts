import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.js';
import { tempDir } from '../helpers/board.js';
import { kanban, kanbanJson, ROOT } from '../helpers/cli.js';
import { compileSharedObject } from '../helpers/native.js';

/**
 * A write whose commit met an I/O error may be on the board or not (SQLite appended it to the WAL
 * before the sync failed): the CLI must say so, and an idempotency key must make the retry safe. The
 * fault is real: the kanban process runs with fsync and fdatasync failing with EIO (LD_PRELOAD).
 */
let shim: string | null;
beforeAll(() => {
  shim = compileSharedObject(join(ROOT, 'test/fixtures/native/fail-fsync.c'), join(tempDir('kanban-native-'), 'shim.so'));
});

describe('a commit that fails with an I/O error', () => {
  it('exits 4 saying the write may or may not have been written; a retry with the same idempotency key makes one task', (ctx) => {
    if (!shim) return ctx.skip();
    const db = join(tempDir('kanban-ioerr-'), 'board.db');
    openStore(db).close();
    const failed = kanban(['--db', db, 'create', 'flaky disk', '--idempotency-key', 'k-1'], { LD_PRELOAD: shim });
    expect(failed.code, failed.stderr).toBe(4);
    const lines = failed.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^kanban: the write may or may not have been written \(SQLITE_IOERR\w*: .*\); check with `kanban list`/);
    expect(failed.stdout).toBe('');

    const retried = kanbanJson(db, ['create', 'flaky disk', '--idempotency-key', 'k-1']);
    expect(retried.title).toBe('flaky disk');
    const titles = kanbanJson<Array<{ title: string }>>(db, ['list']).map((t) => t.title);
    expect(titles.filter((t) => t === 'flaky disk')).toHaveLength(1);
  });
});
