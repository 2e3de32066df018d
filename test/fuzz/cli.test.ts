import { execFile, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.js';
import { blockTask, completeTask } from '../../src/store/lifecycle.js';
import { createTask, getTask, listTasks, showTask } from '../../src/store/tasks.js';
import { tempDir } from '../helpers/board.js';
import { fileHash, KANBAN_BIN } from '../helpers/cli.js';
import { cleanEnv } from '../helpers/processes.js';

/**
 * Random arguments, option values, environment values, config files and task text thrown at the
 * real CLI. Whatever comes in: the exit code is one of the contract's (0–4), stderr holds only
 * `kanban: …` lines and never a stack trace, and a command that failed left the board file as it was.
 */

let db: string;
let ids: string[] = [];
const dir = () => db.slice(0, db.lastIndexOf('/'));

beforeAll(() => {
  db = join(tempDir('kanban-fuzz-'), 'board.db');
  const store = openStore(db);
  ids = [createTask(store, { title: 'ready one' }).task.id, createTask(store, { title: 'blocked one' }).task.id, createTask(store, { title: 'done one' }).task.id];
  blockTask(store, ids[1]!);
  completeTask(store, ids[2]!);
  store.close();
});

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  /** Why there is no exit code (-1): the deadline passed, or the process could not be run. */
  failure?: string;
}

/** Generous: a command takes well under a second, but a loaded machine can stall a process for long. */
const COMMAND_DEADLINE_MS = 60_000;

/** Runs in the board's temp dir: a random relative path (`--db --summary`) makes its board there, not in the checkout. */
function run(args: string[], env: Record<string, string>): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(process.execPath, [KANBAN_BIN, ...args], { cwd: dir(), env: { ...cleanEnv(), KANBAN_HOME: dir(), KANBAN_CONFIG: join(dir(), 'none.yaml'), ...env }, timeout: COMMAND_DEADLINE_MS, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      const failure = code === -1 ? (err!.killed ? `still running after ${COMMAND_DEADLINE_MS} ms: killed` : `could not run: ${err!.code ?? err!.message}`) : undefined;
      resolve({ code, stdout, stderr, ...(failure && { failure }) });
    });
  });
}

function expectContract(outcome: Outcome, what: string): void {
  expect([0, 1, 2, 3, 4], `${what}: exit ${outcome.code}${outcome.failure ? ` (${outcome.failure})` : ''}\n${outcome.stderr}`).toContain(outcome.code);
  expect(outcome.stderr, what).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack trace
  const lines = outcome.stderr.split('\n').filter(Boolean);
  for (const line of lines) expect(line, what).toMatch(/^kanban: /);
  if (outcome.code !== 0) expect(lines.length, `${what}: a failure says why`).toBeGreaterThan(0);
}

const COMMANDS = ['init', 'create', 'list', 'show', 'edit', 'link', 'unlink', 'comment', 'block', 'unblock', 'schedule', 'promote', 'reclaim', 'complete', 'archive', 'dispatch', 'diagnostics', 'log', 'worker', 'frobnicate', ''];
const WORKER = ['heartbeat', 'complete', 'block', 'comment', 'guard', 'run', 'nope'];
const OPTIONS = [
  '--json', '--priority', '--status', '--at', '--in', '--max-runtime', '--max-retries', '--workspace', '--assignee', '--parent', '--sort', '--force', '--dry-run', '--stale',
  '--summary', '--note', '--body', '--title', '--clear-claim', '--reset-failures', '--triage', '--idempotency-key', '--board', '--db', '--task', '--run', '--frobnicate', '-x', '--',
];
const HOSTILE = ['', ' ', '-', '--', 'none', '0', '-1', '1e999', 'NaN', '99999999999999999999', '2026-13-45', '1h30m', '../../etc/passwd', '/dev/null', 'dir:/', 'worktree:relative', 't_xyz', 'T_00000000', 't_00000000', '\u001b[2J\u001b]0;pwn\u0007', '\u0000', '\ud800', '日本語', '$(touch /tmp/pwned)', '`id`', "'; DROP TABLE tasks; --", '%s%n', 'a'.repeat(5000)];
const value = fc.oneof(
  fc.constantFrom(...HOSTILE),
  fc.constantFrom('ready', 'blocked', 'todo', 'archived', 'status', 'priority', '15m', '2099-01-01', 'scratch', 'coder'),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer().map(String),
  fc.double().map(String),
);
const token = fc.oneof({ arbitrary: fc.constantFrom(...OPTIONS), weight: 3 }, { arbitrary: value, weight: 3 }, { arbitrary: fc.nat({ max: 2 }).map((i) => `@id${i}`), weight: 2 });
const argv = fc.tuple(fc.constantFrom(...COMMANDS), fc.constantFrom(...WORKER), fc.array(token, { maxLength: 8 })).map(([command, sub, rest]) => (command === 'worker' ? [command, sub, ...rest] : command === '' ? rest : [command, ...rest]));
const ENV_NAMES = ['KANBAN_BUSY_TIMEOUT_MS', 'KANBAN_TICK_SECONDS', 'KANBAN_CLAIM_TTL_SECONDS', 'KANBAN_FAILURE_LIMIT', 'KANBAN_MAX_IN_PROGRESS', 'KANBAN_BOARD', 'KANBAN_TASK', 'KANBAN_RUN_ID', 'KANBAN_CLAIM_LOCK', 'KANBAN_STALE_TIMEOUT_SECONDS'];
const env = fc.dictionary(fc.constantFrom(...ENV_NAMES), value.filter((v) => !v.includes('\u0000')), { maxKeys: 3 });

/** Commands that act on each of several ids may change some tasks and refuse others: by design. */
const ACTS_ON_EACH = new Set(['unblock', 'promote', 'archive', 'reclaim']);

/** Runs `cases` at a time (processes are the cost here). */
async function inBatches<T>(items: T[], size: number, each: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(each));
}

describe('the CLI under random input', () => {
  it('keeps the exit-code contract, one kanban: line per failure, no stack traces, the board unchanged on failure', async () => {
    const cases = fc.sample(fc.tuple(argv, env), { numRuns: 40, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 100000) });
    // One at a time on the shared board: a failure must leave it byte-for-byte as the previous command did.
    await inBatches(cases, 1, async ([args, vars]) => {
      const concrete = args.map((a) => (/^@id\d$/.test(a) ? ids[Number(a[3])]! : a)).filter((a) => !a.includes('\u0000'));
      if (concrete[0] === 'tui' || concrete.includes('--follow')) return; // these run until stopped
      const before = fileHash(db);
      const outcome = await run(['--db', db, ...concrete], vars);
      const what = JSON.stringify({ args: concrete.map((a) => a.slice(0, 60)), env: vars });
      expectContract(outcome, what);
      const several = ACTS_ON_EACH.has(concrete[0]!) && concrete.filter((a) => ids.includes(a) || /^t_/i.test(a)).length > 1;
      if (outcome.code !== 0 && !several) expect(fileHash(db), `${what}: a failed command changed the board`).toBe(before);
    });
  }, 240_000);

  it('rejects bad config files cleanly: wrong types, unknown keys, huge values, not YAML at all', async () => {
    const junk = fc.oneof(
      fc.anything({ maxDepth: 3 }).map((v) => {
        try {
          return stringify(v) ?? String(v);
        } catch {
          return String(v);
        }
      }),
      fc.record({ profiles: fc.dictionary(fc.string({ maxLength: 8 }), fc.anything({ maxDepth: 2 })), tick_seconds: fc.oneof(fc.double(), fc.string()), failure_limit: fc.oneof(fc.integer(), fc.constant(1e308)) }, { requiredKeys: [] }).map((v) => stringify(v)),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.constantFrom('profiles: [', ': :', '\t- x', 'profiles:\n  a:\n    command: "sh -c x"', '%YAML 9.9\n---', 'a: &x [*x]'),
    );
    const configs = fc.sample(junk, { numRuns: 25 });
    await inBatches(configs, 4, async (text) => {
      const path = join(tempDir('kanban-fuzz-config-'), 'config.yaml');
      writeFileSync(path, text);
      const before = fileHash(db);
      const outcome = await run(['--db', db, 'dispatch', '--dry-run'], { KANBAN_CONFIG: path });
      expectContract(outcome, `config ${JSON.stringify(text.slice(0, 200))}`);
      expect([0, 2]).toContain(outcome.code);
      expect(fileHash(db)).toBe(before);
    });
  }, 240_000);
});

describe('task text', () => {
  it('any text, control characters and all, is stored exactly and drawn without its controls', async () => {
    const titles = fc.sample(fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }).filter((t) => t.trim() !== '' && !t.includes('\u0000') && !t.startsWith('-')), { numRuns: 10 });
    const local = join(tempDir('kanban-fuzz-text-'), 'board.db');
    await inBatches(titles, 4, async (title) => {
      const created = await run(['--db', local, 'create', title, '--json'], {});
      expectContract(created, `title ${JSON.stringify(title)}`);
      expect(created.code).toBe(0);
      const task = JSON.parse(created.stdout) as { id: string; title: string };
      expect(task.title).toBe(Buffer.from(title, 'utf8').toString('utf8')); // as the OS passed it (lone surrogates become U+FFFD)
      const shown = await run(['--db', local, 'show', task.id], {});
      expect(shown.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    });
  }, 120_000);

  it('bytes that are not UTF-8 arrive as replacement characters, not as a crash', () => {
    const local = join(tempDir('kanban-fuzz-bytes-'), 'board.db');
    const result = spawnSync('bash', ['-c', `"${process.execPath}" "${KANBAN_BIN}" --db "${local}" create $'bad \\xff\\xfe bytes' --json`], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).title).toBe('bad \ufffd\ufffd bytes');
  });

  it('a 1 MB title is stored, listed and shown', async () => {
    const local = join(tempDir('kanban-fuzz-big-'), 'board.db');
    const store = openStore(local);
    const huge = `${'x'.repeat(1024 * 1024 - 20)}\u001b[2J tail`;
    const id = createTask(store, { title: huge, body: huge }).task.id;
    store.close();
    const listed = await run(['--db', local, 'list', '--json'], {});
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)[0].title).toBe(huge);
    const shown = await run(['--db', local, 'show', id], {});
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(' tail');
    expect(shown.stdout).not.toContain('\u001b');
    const reopened = openStore(local);
    expect(getTask(reopened, id).title).toBe(huge);
    expect(showTask(reopened, id).task.body).toBe(huge);
    expect(listTasks(reopened)).toHaveLength(1);
    reopened.close();
  });
});
