import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.js';
import { recordExit } from '../../src/store/lease.js';
import type { RunIdentity } from '../../src/core/run.js';
import { createTask } from '../../src/store/tasks.js';
import { tempDir, claimOrFail } from '../helpers/board.js';
import { expectFailure, fileHash, kanban } from '../helpers/cli.js';

/** A task whose first run was rate limited and whose second run holds it now. */
let db: string;
let stale: RunIdentity;
let current: RunIdentity;

const envOf = (id: RunIdentity, dbPath = db) => ({
  KANBAN_DB: dbPath,
  KANBAN_TASK: id.taskId,
  KANBAN_RUN_ID: String(id.runId),
  KANBAN_CLAIM_LOCK: id.claimLock,
});

beforeAll(() => {
  db = join(tempDir('kanban-worker-cli-'), 'board.db');
  const store = openStore(db);
  const { task } = createTask(store, { title: 'contested' });
  const first = claimOrFail(store, task.id, { profile: null, leaseMs: 60_000 });
  stale = first.identity;
  recordExit(store, stale, { exitCode: 75, signal: null, onCleanExit: 'violation', failures: { limit: 2, limitSource: 'default' }, rateLimitCooldownMs: 0 });
  const second = claimOrFail(store, task.id, { profile: null, leaseMs: 60_000 });
  current = second.identity;
  store.close(); // so that the file alone holds the board, and a byte comparison means something
});

const commands: Array<[string, string[]]> = [
  ['heartbeat', ['worker', 'heartbeat', '--note', 'late']],
  ['complete', ['worker', 'complete', '--summary', 'stale result']],
  ['block', ['worker', 'block', 'stale reason']],
  ['comment', ['worker', 'comment', 'stale words']],
  ['guard', ['worker', 'guard']],
];

describe('3. a stale identity is refused by every worker command, and the newer run is untouched', () => {
  it.each(commands)('worker %s from the earlier run: exit 1', (_name, args) => {
    expectFailure(db, args, 1, new RegExp(`^kanban: run ${stale.runId} of t_\\w+ no longer holds the task: run ${current.runId} does$`), envOf(stale));
  });

  it.each(commands)('worker %s with the current run but a wrong lock: exit 1', (_name, args) => {
    const forged = { ...current, claimLock: current.claimLock.replace(/[0-9a-f]$/, (c) => (c === '0' ? '1' : '0')) };
    expectFailure(db, args, 1, /the claim lock does not match$/, envOf(forged));
  });
});

describe('a missing or malformed identity is bad input, found before the board is touched', () => {
  const variables = ['KANBAN_DB', 'KANBAN_TASK', 'KANBAN_RUN_ID', 'KANBAN_CLAIM_LOCK'] as const;

  it.each(variables)('without %s: exit 2', (name) => {
    const nowhere = join(tempDir(), 'never-created.db');
    const env: Record<string, string> = envOf(current, nowhere);
    delete env[name];
    const result = kanban(['worker', 'heartbeat'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`kanban: ${name} is not set: worker commands run inside a worker that kanban started\n`);
    expect(existsSync(nowhere)).toBe(false);
  });

  it.each([
    ['KANBAN_TASK', 'task-1', /invalid KANBAN_TASK 'task-1': expected a task id/],
    ['KANBAN_RUN_ID', 'one', /invalid KANBAN_RUN_ID 'one': expected a run number/],
    ['KANBAN_RUN_ID', '0', /invalid KANBAN_RUN_ID '0'/],
    ['KANBAN_RUN_ID', '-3', /invalid KANBAN_RUN_ID '-3'/],
    ['KANBAN_CLAIM_LOCK', 'no-colons-here', /invalid KANBAN_CLAIM_LOCK 'no-colons-here': expected host:pid:hex/],
    ['KANBAN_CLAIM_LOCK', 'host:pid:xyz', /invalid KANBAN_CLAIM_LOCK/],
  ])('%s=%s: exit 2', (name, value, message) => {
    const before = fileHash(db);
    for (const [, args] of commands) {
      const result = kanban(args, { ...envOf(current), [name]: value });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
    }
    expect(fileHash(db)).toBe(before);
  });
});

describe('the identity that holds the task', () => {
  it('guard says so (exit 0) and heartbeat extends the lease', () => {
    expect(kanban(['worker', 'guard'], envOf(current)).code).toBe(0);
    const result = kanban(['worker', 'heartbeat', '--json'], envOf(current));
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ id: current.taskId, status: 'running', current_run_id: current.runId });
  });

  it('block is sticky and closes the run; after it, guard says the task is gone', () => {
    expect(kanban(['worker', 'block', 'needs the API key'], envOf(current)).code).toBe(0);
    const guard = kanban(['worker', 'guard'], envOf(current));
    expect(guard.code).toBe(1);
    expect(guard.stderr).toMatch(/no longer holds the task: it is blocked/);
    const shown = JSON.parse(kanban(['--db', db, 'show', current.taskId, '--json']).stdout);
    expect(shown.task).toMatchObject({ status: 'blocked', status_reason: 'needs the API key' });
    expect(shown.runs.map((r: { outcome: string }) => r.outcome)).toEqual(['rate_limited', 'blocked']);
  });
});
