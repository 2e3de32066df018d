import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type pg from 'pg';
import { monotonicMs, type Clock } from '../clock.js';
import { BoardUnusable, InvalidInput, KanbanError } from '../errors.js';
import { boardsDir, redactUrl } from '../location.js';
import type { BoardRef, BoardStore } from '../port/board.js';
import type { ArchiveBatch, CollectBatch } from '../port/types.js';
import { openPool } from './connection.js';
import { addComment, commentsForTask } from './comments.js';
import { loadTaskContext } from './context.js';
import { takeEvents } from './cursors.js';
import { loadBoardFacts } from './diagnostics.js';
import { cooldownOf, dueSchedules, endedRunsWithWorkers, lastRun, noteRespawnGuarded, openRuns, promotableTodos, promoteReady, readyQueue, reclaimGhost, recoverableBlocked, recoverBlocked, releaseSchedule, runningCounts, runningTasks } from './dispatch.js';
import { pgCoreError } from './errors.js';
import { listHosts, seeHost } from './hosts.js';
import { logsSince, logsTail, shipLog } from './logs.js';
import { eventsAfter, eventsForTask, recentEvents, recordEvent } from './events.js';
import { attachSupervisor, blockRun, checkOwnership, claimFirst, claimTask, commentFromRun, completeRun, createFromRun, extendClaim, heartbeat, renewLease, recordExit, recordFailedRun, recordSpawn, releaseRun, reviewRun } from './lease.js';
import { approveTask, archiveTask, blockTask, completeTask, promoteTask, reopenTask, requestChanges, scheduleTask, stopAndBlock, unblockTask } from './lifecycle.js';
import { linkTasks, unlinkTasks } from './links.js';
import { childIds, parentIds, toTask, unfinishedParents } from './rows.js';
import { runById, runsForTask } from './runs.js';
import { migratePg, PG_SCHEMA_VERSION, schemaVersion } from './schema.js';
import { readStatsFacts } from './stats.js';
import { countTasks, createTask, createTasks, editTask, getTask, listTasks, listTasksJson, showTask } from './tasks.js';
import { archiveDoneTasks, collectedTasks, collectHistory, reclaimSpace } from './retention.js';
import { CommitFailed, DB_NOW_MS, inTransaction, isRetryable } from './transaction.js';
import { Tx } from './tx.js';
import { PgWatcher } from './watch.js';
import { boardView, columnCounts, columnWindow, positionInColumn } from './windows.js';

/**
 * A PostgreSQL board's identity: its URL (with any password, for connecting and for KANBAN_DB); its
 * name for people, the URL without the password; and a folder on this host for the logs and
 * workspaces of the runs this host runs, `$KANBAN_HOME/boards/pg-<database>-<hash>`, the same for
 * every spelling of the URL that names the same server, user and database.
 */
export function postgresRef(url: string): BoardRef {
  // A Unix-socket URL leaves the host empty (`postgresql://user@/db?host=/run/postgresql`), which URL refuses.
  const parsed = new URL(url.replace(/^(postgres(?:ql)?:\/\/(?:[^@/?#]*@)?)(?=[/?#]|$)/i, '$1unix-socket'));
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'postgres';
  const server = [parsed.username, parsed.hostname, parsed.port || '5432', parsed.searchParams.get('host') ?? '', database].join('|');
  const slug = `pg-${database.toLowerCase().replace(/[^a-z0-9_-]/g, '_').slice(0, 40)}-${createHash('sha256').update(server).digest('hex').slice(0, 8)}`;
  return { kind: 'postgres', location: url, name: redactUrl(url), dataDir: join(boardsDir(), slug) };
}

export interface PgOpenOptions {
  /** A test's clock; without one, every time is the database's (`now` of each transaction). */
  clock?: Clock;
  /** A board with no schema yet is an error (commands that only read), not created. */
  mustExist?: boolean;
  /** How long to keep running a transaction again after serialization failures (default 10 s). */
  busyTimeoutMs?: number;
  connectTimeoutMs?: number;
}

type Kind = 'read' | 'write' | 'hot';

/**
 * The board port on PostgreSQL. Each method is one transaction on a connection of the pool: reads at
 * REPEATABLE READ (one snapshot), transitions at SERIALIZABLE (run again from the start after a
 * serialization failure or a deadlock), and the hot paths a run takes many times (claim, heartbeat,
 * lease renewal) at READ COMMITTED, each written to hold there (row locks, compare-and-set).
 */
export class PgBoard implements BoardStore {
  readonly ref: BoardRef;
  readonly shared = true;

  static async open(url: string, options: PgOpenOptions = {}): Promise<PgBoard> {
    let ref: BoardRef;
    try {
      ref = postgresRef(url);
    } catch {
      throw new InvalidInput(`not a PostgreSQL URL: ${redactUrl(url)}`);
    }
    let created = false;
    const pool = openPool(url, options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {});
    // From the pool's first connection (the one that migrates stays in the pool for the board's writes).
    const ownPids = new Set<number>();
    const serverPid = (client: pg.PoolClient) => (client as unknown as { processID?: number }).processID ?? 0;
    pool.on('connect', (client) => ownPids.add(serverPid(client)));
    pool.on('remove', (client) => ownPids.delete(serverPid(client)));
    try {
      const client = await pool.connect();
      try {
        if (options.mustExist && (await hasNoSchema(client))) throw new BoardUnusable(`no board at ${ref.name}: \`kanban init\` creates one (so does any command that writes)`);
        created = (await migratePg(client)).includes(1);
      } finally {
        client.release();
      }
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err instanceof KanbanError ? err : pgCoreError(err, ref.name);
    }
    return new PgBoard(ref, pool, options, created, ownPids);
  }

  private constructor(
    ref: BoardRef,
    private readonly pool: pg.Pool,
    private readonly options: PgOpenOptions,
    /** This open made the board (its first migration). */
    private readonly created: boolean,
    /** The server process ids of this board's own connections: their writes are not another's change. */
    private readonly ownPids: ReadonlySet<number>,
  ) {
    this.ref = ref;
  }

  /** `fn(tx, ...args)` as a transaction of its own, of `kind`. */
  private call<A extends unknown[], R>(kind: Kind, fn: (tx: Tx, ...args: A) => Promise<R>): (...args: A) => Promise<R> {
    return (...args) => this.transaction(kind, (tx) => fn(tx, ...args));
  }

  private async transaction<R>(kind: Kind, body: (tx: Tx) => Promise<R>): Promise<R> {
    const clock = this.options.clock;
    if (kind === 'hot') return this.autocommit(body);
    try {
      return await inTransaction(this.pool, (client, dbNow) => body(new Tx(client, clock ? clock.now() : dbNow!, kind !== 'read')), {
        isolation: kind === 'read' ? 'repeatable read' : kind === 'write' ? 'serializable' : 'read committed',
        readOnly: kind === 'read',
        readTime: !clock,
        deadlineMs: this.options.busyTimeoutMs ?? 10_000,
      });
    } catch (err) {
      throw err instanceof CommitFailed ? pgCoreError(err.cause, this.ref.name, 'commit') : pgCoreError(err, this.ref.name);
    }
  }

  /**
   * A hot path: its statement in autocommit on a connection of the pool, one round trip; the time in
   * the statement (Tx.timeSql). Statements after it (reads saying why it was refused) are their own.
   */
  private async autocommit<R>(body: (tx: Tx) => Promise<R>): Promise<R> {
    let client: pg.PoolClient | undefined;
    try {
      client = await this.pool.connect();
      const deadline = monotonicMs() + (this.options.busyTimeoutMs ?? 10_000);
      for (let attempt = 0; ; attempt++) {
        try {
          return await body(new Tx(client, this.options.clock?.now() ?? null, true, false));
        } catch (err) {
          // A deadlock rolled the statement back: it may simply run again.
          if (!isRetryable(err) || monotonicMs() >= deadline) throw err;
          await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(100, 2 * 2 ** attempt)));
        }
      }
    } catch (err) {
      // Sent and then the connection lost: it may or may not have committed. Never sent: a plain fault.
      throw pgCoreError(err, this.ref.name, client ? 'commit' : 'body');
    } finally {
      client?.release();
    }
  }

  private read<A extends unknown[], R>(fn: (tx: Tx, ...args: A) => Promise<R>) {
    return this.call('read', fn);
  }

  private write<A extends unknown[], R>(fn: (tx: Tx, ...args: A) => Promise<R>) {
    return this.call('write', fn);
  }

  private hot<A extends unknown[], R>(fn: (tx: Tx, ...args: A) => Promise<R>) {
    return this.call('hot', fn);
  }

  readonly tasks = {
    get: this.read(getTask),
    show: this.read(showTask),
    list: this.read(listTasks),
    listJson: this.read(listTasksJson),
    count: this.read(countTasks),
    runs: this.read(runsForTask),
    run: this.read(runById),
    events: this.read(eventsForTask),
    recentEvents: this.read(recentEvents),
    eventsAfter: this.read(eventsAfter),
    comments: this.read(commentsForTask),
    context: this.read(loadTaskContext),
    parents: this.read(parentIds),
    children: this.read(childIds),
    unfinishedParents: this.read(unfinishedParents),
  };

  readonly transitions = {
    create: this.write(createTask),
    createMany: this.write(createTasks),
    edit: this.write(editTask),
    comment: this.write(addComment),
    block: this.write(blockTask),
    unblock: this.write(unblockTask),
    schedule: this.write(scheduleTask),
    promote: this.write(promoteTask),
    complete: this.write(completeTask),
    approve: this.write(approveTask),
    requestChanges: this.write(requestChanges),
    reopen: this.write(reopenTask),
    archive: this.write(archiveTask),
    stopAndBlock: this.write(async (tx, id: string, reason?: string | null) => {
      const { task, stopped } = await stopAndBlock(tx, id, reason);
      return { task: await toTask(tx, task), stopped };
    }),
    note: this.write(recordEvent),
    link: this.write(linkTasks),
    unlink: this.write(unlinkTasks),
  };

  readonly lease = {
    claim: this.hot(claimTask),
    claimFirst: this.hot(claimFirst),
    check: this.read(checkOwnership),
    heartbeat: this.hot(heartbeat),
    attachSupervisor: this.write(attachSupervisor),
    recordSpawn: this.write(recordSpawn),
    complete: this.write(completeRun),
    block: this.write(blockRun),
    review: this.write(reviewRun),
    create: this.write(createFromRun),
    comment: this.write(commentFromRun),
    recordExit: this.write(recordExit),
    recordFailure: this.write(recordFailedRun),
    release: this.write(releaseRun),
    extend: this.hot(extendClaim),
    renew: this.hot(renewLease),
  };

  readonly dispatch = {
    runningTasks: this.read(runningTasks),
    runningCounts: this.read(runningCounts),
    openRuns: this.read(openRuns),
    endedRunsWithWorkers: this.read(endedRunsWithWorkers),
    dueSchedules: this.read(dueSchedules),
    promotableTodos: this.read(promotableTodos),
    recoverableBlocked: this.read(recoverableBlocked),
    readyQueue: this.read(readyQueue),
    lastRun: this.read(lastRun),
    cooldownOf: this.read(cooldownOf),
    noteRespawnGuarded: this.write(noteRespawnGuarded),
    promoteReady: this.write(promoteReady),
    releaseSchedule: this.write(releaseSchedule),
    recoverBlocked: this.write(recoverBlocked),
    reclaimGhost: this.write(reclaimGhost),
    takeEvents: this.write(takeEvents),
  };

  readonly windows = {
    counts: this.read(columnCounts),
    window: this.read(columnWindow),
    position: this.read(positionInColumn),
    view: this.read(boardView),
  };

  readonly facts = {
    diagnostics: this.read(loadBoardFacts),
    stats: this.read(readStatsFacts),
  };

  readonly retention = {
    collect: (batch: CollectBatch) => (batch.dryRun ? this.read(collectHistory) : this.write(collectHistory))(batch),
    archiveDone: (batch: ArchiveBatch) => (batch.dryRun ? this.read(archiveDoneTasks) : this.write(archiveDoneTasks))(batch),
    reclaimSpace: (_maxBytes: number) => reclaimSpace(),
    collectedTasks: this.read(collectedTasks),
  };

  readonly logs = {
    ship: this.write(shipLog),
    since: this.read(logsSince),
    tail: this.read(logsTail),
  };

  readonly hosts = {
    seen: this.write(seeHost),
    list: this.read(listHosts),
  };

  watch(onChange: () => void): () => void {
    const watcher = new PgWatcher(this.ref.location, onChange, { ignore: (pid) => this.ownPids.has(pid) });
    return () => watcher.close();
  }

  async describe(): Promise<{ schemaVersion: number; storage: Record<string, string>; created: boolean }> {
    return this.transaction('read', async (tx) => ({
      created: this.created,
      schemaVersion: (await tx.value<number>('SELECT max(version) FROM kanban_schema')) ?? PG_SCHEMA_VERSION,
      storage: { server_version: (await tx.value<string>('SHOW server_version')) ?? 'unknown' },
    }));
  }

  /** The database's clock (a test's injected clock when it has one). */
  async now(): Promise<number> {
    if (this.options.clock) return this.options.clock.now();
    try {
      return (await this.pool.query<{ now: number }>(`SELECT ${DB_NOW_MS} AS now`)).rows[0]!.now;
    } catch (err) {
      throw pgCoreError(err, this.ref.name);
    }
  }

  /** Nothing to do: the server keeps its own house. */
  async maintain(): Promise<void> {}

  async verify(): Promise<void> {}

  async close(): Promise<void> {
    await this.pool.end();
  }
}

async function hasNoSchema(client: pg.ClientBase): Promise<boolean> {
  const { rows } = await client.query<{ exists: boolean }>("SELECT to_regclass('kanban_schema') IS NOT NULL AS exists");
  return !rows[0]!.exists || (await schemaVersion(client)) === 0;
}
