import { statSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { killBoardProcesses } from '../../chaos/harness.js';
import type { RunIdentity } from '../../src/core/run.js';
import type { EventRow, RunRow } from '../../src/core/types.js';
import { PgBoard } from '../../src/pg/board.js';
import type { BoardStore } from '../../src/port/board.js';
import { tempDir } from '../helpers/board.js';
import { kanban, kanbanAsync } from '../helpers/cli.js';
import { startDispatcher, type RunningDispatcher } from '../helpers/dispatcher.js';
import { cleanEnv, isAlive } from '../helpers/processes.js';
import { TTL_SECONDS, until, worker } from '../helpers/workers.js';
import { freshDatabase } from '../helpers/postgres.js';
import { newPgDatabase } from './factory.js';

/**
 * The contract's scenarios on a PostgreSQL board, from the CLI, as test/integration/dispatcher.test.ts
 * and worker-cli.test.ts run them on SQLite: real dispatchers (`kanban tui --no-ui`), supervisors and
 * workers, with KANBAN_DB the server's URL, and every lease in the database's time. The test reads the
 * board through the port.
 */
const server = inject('postgresUrl');
const skip = server === null && process.env.CI !== 'true';
const WAIT_MS = 60_000; // the machine's deadline (a loaded 2-core machine runs several of these at once); the product's bounds are asserted apart

interface ServerBoard {
  db: string;
  board: BoardStore;
  env: Record<string, string>;
  cwd: string;
}

const opened: Array<{ board: ServerBoard; drop(): Promise<void> }> = [];
const dispatchers: RunningDispatcher[] = [];

afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((d) => d.stop()));
  for (const { board, drop } of opened.splice(0)) {
    killBoardProcesses(board.db);
    await board.board.close();
    await drop();
  }
});

async function serverBoard(profiles: Record<string, unknown>, env: Record<string, string> = {}): Promise<ServerBoard> {
  const database = await newPgDatabase(server!, 'scenario');
  const dir = tempDir('kanban-pg-scenario-');
  const config = join(dir, 'config.yaml');
  writeFileSync(config, JSON.stringify({ profiles })); // JSON is YAML
  const board: ServerBoard = {
    db: database.url,
    board: await PgBoard.open(database.url),
    cwd: dir,
    env: { ...cleanEnv(), KANBAN_HOME: join(dir, 'home'), KANBAN_CONFIG: config, KANBAN_CLAIM_TTL_SECONDS: String(TTL_SECONDS), KANBAN_HEARTBEAT_BRIDGE_SECONDS: '0.3', ...env },
  };
  opened.push({ board, drop: database.drop });
  return board;
}

function dispatcher(board: ServerBoard, env: Record<string, string> = {}): RunningDispatcher {
  const started = startDispatcher(board, env);
  dispatchers.push(started);
  return started;
}

const runs = (board: ServerBoard, id: string): Promise<RunRow[]> => board.board.tasks.runs(id);
const events = async (board: ServerBoard, id: string, kind: string): Promise<EventRow[]> => (await board.board.tasks.events(id)).filter((e) => e.kind === kind);
const create = async (board: ServerBoard, title: string, assignee: string) => (await board.board.transitions.create({ title, assignee })).task.id;

describe.skipIf(skip)(`the contract's scenarios on PostgreSQL${skip ? ' (skipped: no PostgreSQL here)' : ''}`, { timeout: 90_000 }, () => {
  beforeAll(() => {
    expect(server, 'no PostgreSQL for the run: install postgresql (Debian) or set KANBAN_TEST_POSTGRES_URL').not.toBeNull();
  });

  it('a worker killed with SIGKILL: the task runs again under a new run, the first closed crashed', async () => {
    const board = await serverBoard({ hang: { command: worker('hang') } });
    const id = await create(board, 'fragile', 'hang');
    dispatcher(board);
    const pid = await until('the first worker', async () => (await board.board.tasks.get(id)).worker_pid, WAIT_MS);
    process.kill(pid, 'SIGKILL');
    await until('a second run', async () => (await runs(board, id)).length >= 2 && (await board.board.tasks.get(id)).worker_pid !== null, WAIT_MS);
    const [first, second] = await runs(board, id);
    expect(first).toMatchObject({ status: 'ended', outcome: 'crashed', signal: 'SIGKILL' });
    expect(second).toMatchObject({ status: 'running' });
    expect(await board.board.tasks.get(id)).toMatchObject({ status: 'running', current_run_id: second!.id, consecutive_failures: 1 });
  });

  it('a supervisor killed with SIGKILL: reaped as crashed, its worker stopped, the task runs again', async () => {
    const board = await serverBoard({ hang: { command: worker('hang') } });
    const id = await create(board, 'orphaned', 'hang');
    dispatcher(board, { KANBAN_CRASH_GRACE_SECONDS: '1' });
    const workerPid = await until('the first worker', async () => (await board.board.tasks.get(id)).worker_pid, WAIT_MS);
    const supervisorPid = (await runs(board, id))[0]!.supervisor_pid!;
    process.kill(supervisorPid, 'SIGKILL');
    await until('a second run', async () => (await runs(board, id)).length >= 2, WAIT_MS);
    expect((await runs(board, id))[0]).toMatchObject({ outcome: 'crashed', error: `crashed: its supervisor ${supervisorPid} is gone` });
    await until('the orphaned worker to be stopped', async () => !isAlive(workerPid), WAIT_MS);
  });

  it('heartbeating and printing workers keep their tasks for 3× the TTL; a silent one is stopped by its supervisor before its lease runs out', async () => {
    const board = await serverBoard({
      beater: { command: worker('heartbeat', '750', '9000') },
      chatty: { command: worker('chatty', '750', '9000') },
      silent: { command: worker('hang') },
    });
    const beater = await create(board, 'beater', 'beater');
    const chatty = await create(board, 'chatty', 'chatty');
    const silent = await create(board, 'silent', 'silent');
    dispatcher(board, { KANBAN_HEARTBEAT_MAX_STALE_SECONDS: '5' });
    const silentPid = await until('the silent worker', async () => (await board.board.tasks.get(silent)).worker_pid, WAIT_MS);
    await until('the silent run to end', async () => (await runs(board, silent))[0]?.status === 'ended', WAIT_MS);
    // On a board other hosts share, its supervisor stops it before its lease could run out (lease-holder.ts).
    const [stopped] = await runs(board, silent);
    expect(stopped).toMatchObject({ outcome: 'stale', error: expect.stringMatching(/^no output and no heartbeat for more than 5s: stopped before its lease ran out/) });
    // Its exit was recorded (so its worker was gone) before the last lease it was given ran out.
    const leases = (await board.board.tasks.events(silent)).map((e) => e.payload.claim_expires).filter((t): t is number => typeof t === 'number');
    expect(stopped!.ended_at!).toBeLessThan(Math.max(...leases));
    expect(await events(board, silent, 'reclaimed')).toEqual([]);
    await until('the silent worker to be stopped', async () => !isAlive(silentPid), WAIT_MS);
    await until('both long runs to finish', async () => (await board.board.tasks.get(beater)).status === 'done' && (await board.board.tasks.get(chatty)).status === 'done', WAIT_MS);
    for (const id of [beater, chatty]) {
      expect((await runs(board, id)).map((r) => r.outcome)).toEqual(['completed']);
      expect(await events(board, id, 'reclaimed')).toEqual([]);
    }
  });

  it('a run that ended well is held while its exit cannot be written: another host does not take it back, and it ends completed', async () => {
    const board = await serverBoard({ quick: { command: [process.execPath, '-e', 'process.exit(0)'], on_clean_exit: 'complete' } });
    // The server refuses to close a run as completed (its disk full, as PostgreSQL says it) until the test lets it.
    const client = new pg.Client({ connectionString: board.db });
    await client.connect();
    try {
      await client.query(`
        CREATE TABLE test_disk_full (is_full boolean);
        INSERT INTO test_disk_full VALUES (true);
        CREATE FUNCTION test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF EXISTS (SELECT 1 FROM test_disk_full) THEN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = '53100'; END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER test_disk_full BEFORE UPDATE ON task_runs FOR EACH ROW WHEN (NEW.outcome = 'completed') EXECUTE FUNCTION test_disk_full();`);
      const id = await create(board, 'quick', 'quick');
      const here = dispatcher(board);
      const pid = await until('its worker', async () => (await board.board.tasks.get(id)).worker_pid, WAIT_MS);
      // Its own dispatcher gone (it would extend the lease while its supervisor records: judge.ts), and
      // another host's, which takes back any run of the board whose lease has run out: only the
      // supervisor keeps the run.
      await here.stop();
      dispatcher(board, { KANBAN_HOME: join(board.cwd, 'home-b') });
      await until('the worker to exit', async () => !isAlive(pid), WAIT_MS);
      await until('the other host at work (its first tick says it is alive)', async () => (await board.board.hosts.list()).length === 2, WAIT_MS);
      const lastEventThen = Math.max(...(await board.board.tasks.events(id)).map((e) => e.id));
      await new Promise((resolve) => setTimeout(resolve, 3 * TTL_SECONDS * 1000)); // three leases of refused writes
      await client.query('DELETE FROM test_disk_full');
      await until('the task to be done', async () => (await board.board.tasks.get(id)).status === 'done', WAIT_MS);
      expect((await runs(board, id)).map((r) => r.outcome)).toEqual(['completed']);
      expect(await events(board, id, 'reclaimed')).toEqual([]);
      const renewedBySupervisor = (await events(board, id, 'claim_extended')).filter((e) => e.payload.source === 'supervisor' && e.id > lastEventThen);
      expect(renewedBySupervisor.length).toBeGreaterThanOrEqual(3);
    } finally {
      await client.end();
    }
  });

  it('rate limits are not counted: exit 75, and exit 1 with a 429 on stderr; each respawned after its cooldown', async () => {
    const board = await serverBoard(
      {
        limited: { command: worker('exit', '75') },
        agent429: { command: [process.execPath, '-e', "process.stderr.write('Error: 429 Too Many Requests\\n'); process.exit(1)"], rate_limit: ['429 Too Many Requests'] },
      },
      { KANBAN_RATE_LIMIT_COOLDOWN_SECONDS: '2' },
    );
    const ids = [await create(board, 'quota', 'limited'), await create(board, 'quota 429', 'agent429')];
    dispatcher(board);
    for (const id of ids) {
      await until(`a second run of ${id}`, async () => (await runs(board, id)).length >= 2, WAIT_MS);
      const [first, second] = await runs(board, id);
      expect(first).toMatchObject({ outcome: 'rate_limited' });
      expect(second!.started_at - first!.ended_at!).toBeGreaterThanOrEqual(2000);
      expect((await board.board.tasks.get(id)).consecutive_failures).toBe(0);
      expect((await events(board, id, 'respawn_guarded')).filter((e) => e.run_id === first!.id)).toHaveLength(1);
    }
  });

  it('a worker that always fails: blocked with gave_up, still blocked ticks later, runs again after unblock', async () => {
    const board = await serverBoard({ broken: { command: worker('exit', '1') } });
    const id = await create(board, 'broken', 'broken');
    dispatcher(board);
    await until('blocked', async () => (await board.board.tasks.get(id)).status === 'blocked', WAIT_MS);
    expect((await runs(board, id)).map((r) => r.outcome)).toEqual(['crashed', 'crashed']);
    expect(await events(board, id, 'gave_up')).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 10 * 200 + 500)); // ten ticks
    expect((await board.board.tasks.get(id)).status).toBe('blocked');
    expect(await runs(board, id)).toHaveLength(2);
    expect(kanban(['--db', board.db, 'unblock', id], board.env).code).toBe(0);
    await until('a third run', async () => (await runs(board, id)).length >= 3, WAIT_MS);
  });

  it("a run's output is read from another host: kanban log and log --follow there print what the worker wrote here", async () => {
    const board = await serverBoard({ chatty: { command: worker('chatty', '200', '3000') } });
    const id = await create(board, 'chatty', 'chatty');
    dispatcher(board);
    await until('the worker to start', async () => (await board.board.tasks.get(id)).worker_pid, WAIT_MS);
    // Another host: its own KANBAN_HOME (no log file of this run), the same board.
    const elsewhere = { ...board.env, KANBAN_HOME: join(tempDir('kanban-other-host-'), 'home') };
    const followed = kanbanAsync(['--db', board.db, 'log', '--follow', id], elsewhere);
    await until('done', async () => (await board.board.tasks.get(id)).status === 'done', WAIT_MS);
    const { code, stdout } = await followed;
    expect(code).toBe(0);
    expect(stdout).toMatch(/\[r\d+ out\] working on step 0\n/);
    // Once its supervisor is gone, everything it wrote is on the board.
    const supervisor = (await runs(board, id))[0]!.supervisor_pid!;
    await until('the supervisor to exit', async () => !isAlive(supervisor), WAIT_MS);
    const printed = kanban(['--db', board.db, 'log', id], elsewhere);
    expect(printed.stdout).toMatch(/\[r\d+ kanban\] run \d+ had already ended: completed/); // the worker completed it itself
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain('working on step 1\n');
    // The same lines as the host that ran it has in its file.
    const steps = (text: string) => text.split('\n').filter((line) => line.includes('working on step'));
    expect(steps(printed.stdout)).toEqual(steps(kanban(['--db', board.db, 'log', id], board.env).stdout));
  });

  it('a board that is not there or cannot be reached: exit 4 with one kanban: line, never the password; reading creates nothing', async () => {
    const empty = { url: await freshDatabase(server!, 'empty') }; // no schema: nothing was ever made there
    {
      const listed = kanban(['--db', empty.url, 'list'], cleanEnv());
      expect([listed.code, listed.stderr]).toEqual([4, `kanban: no board at ${empty.url}: \`kanban init\` creates one (so does any command that writes)\n`]);
      const init = kanban(['--db', empty.url, 'init', '--json'], cleanEnv());
      expect(JSON.parse(init.stdout)).toMatchObject({ created: true, db: empty.url });
      expect(JSON.parse(kanban(['--db', empty.url, 'init', '--json'], cleanEnv()).stdout)).toMatchObject({ created: false });
    }
    const away = kanban(['--db', 'postgres://someone:hunter2@127.0.0.1:1/board', 'list'], cleanEnv());
    expect(away.code).toBe(4);
    expect(away.stderr).toMatch(/^kanban: board postgres:\/\/someone@127\.0\.0\.1:1\/board cannot be reached: .*\n$/);
    expect(away.stderr + away.stdout).not.toContain('hunter2');
  });

  it('a named board on a server: boards create --url, then --board and KANBAN_BOARD open it; boards lists it; rm removes the name only', async () => {
    const url = await freshDatabase(server!, 'named');
    const home = join(tempDir('kanban-named-'), 'home');
    const env = { ...cleanEnv(), KANBAN_HOME: home };
    expect(kanban(['boards', 'create', 'shared', '--url', url], env)).toMatchObject({ code: 0, stdout: `created board shared at ${url}\n` });
    expect(statSync(join(home, 'boards', 'shared', 'board.url')).mode & 0o777).toBe(0o600); // it may hold a password
    expect(kanban(['--board', 'shared', 'create', 'on the server'], env).code).toBe(0);
    expect(kanban(['list', '--json'], { ...env, KANBAN_BOARD: 'shared' }).stdout).toContain('"title":"on the server"');
    const listed = JSON.parse(kanban(['boards', '--json', '--board', 'shared'], env).stdout) as Array<Record<string, unknown>>;
    expect(listed).toEqual([expect.objectContaining({ slug: 'shared', path: url, current: true, tasks: 1, running: 0, error: null })]);
    // Another host names the same board: nothing is made, it is named.
    const other = { ...cleanEnv(), KANBAN_HOME: join(tempDir('kanban-named-'), 'home') };
    expect(kanban(['boards', 'create', 'team', '--url', url], other).stdout).toBe(`named board team at ${url}\n`);
    expect(kanban(['boards', 'create', 'shared', '--url', url], env)).toMatchObject({ code: 1, stderr: `kanban: board shared already exists: ${url}\n` });
    expect(kanban(['boards', 'create', 'bad', '--url', 'mysql://x/y'], env).code).toBe(2);
    const removed = kanban(['boards', 'rm', 'shared', '--yes'], env);
    expect(removed.stdout).toMatch(/^removed the name shared \(.*\); the board itself stays on its server/);
    expect(kanban(['--db', url, 'list', '--json'], env).stdout).toContain('on the server');
  });

  it('a stale identity is refused by every worker command (exit 1), and the newer run is untouched', async () => {
    const board = await serverBoard({});
    const id = await create(board, 'fenced', 'nobody');
    const claim = async () => {
      const result = await board.board.lease.claim(id, { profile: null, leaseMs: 60_000 });
      if (!result.claimed) throw new Error(result.reason);
      return result.identity;
    };
    const stale = await claim();
    await board.board.lease.release(stale, { outcome: 'reclaimed', payload: {} });
    const current = await claim();
    const before = await board.board.tasks.show(id);
    const envOf = (identity: RunIdentity) => ({ ...board.env, KANBAN_DB: board.db, KANBAN_TASK: identity.taskId, KANBAN_RUN_ID: String(identity.runId), KANBAN_CLAIM_LOCK: identity.claimLock });
    for (const args of [['worker', 'heartbeat'], ['worker', 'complete', '--summary', 'late'], ['worker', 'block', 'late'], ['worker', 'comment', 'late']]) {
      const result = kanban(args, envOf(stale));
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr.trim()).toBe(`kanban: run ${stale.runId} of ${id} no longer holds the task: run ${current.runId} does`);
    }
    expect(await board.board.tasks.show(id)).toEqual(before);
    expect(kanban(['worker', 'heartbeat'], envOf(current)).code).toBe(0);
  });

  it('three dispatchers, 16 quick tasks: each done with exactly one completed run, no runs of a task overlapping', async () => {
    const board = await serverBoard({ quick: { command: ['true'], on_clean_exit: 'complete' } }, { KANBAN_MAX_IN_PROGRESS: '8' });
    const ids: string[] = [];
    for (let i = 0; i < 16; i++) ids.push(await create(board, `quick ${i}`, 'quick'));
    const three = [dispatcher(board), dispatcher(board), dispatcher(board)];
    await until('all 16 done', async () => (await board.board.tasks.list({ statuses: ['done'] })).length === 16, 180_000, 250);
    let total = 0;
    for (const id of ids) {
      const taskRuns = await runs(board, id);
      total += taskRuns.length;
      expect(taskRuns.filter((r) => r.outcome === 'completed'), id).toHaveLength(1);
      const sorted = [...taskRuns].sort((a, b) => a.started_at - b.started_at);
      for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.started_at).toBeGreaterThanOrEqual(sorted[i - 1]!.ended_at!);
    }
    const spawnedBy = three.map((d) => d.ticks.flatMap((t) => t.actions).filter((a) => a.action === 'spawned').length);
    expect(spawnedBy.reduce((a, b) => a + b, 0)).toBe(total);
    expect(spawnedBy.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2); // SKIP LOCKED shares the claims out
  }, 240_000);
});
