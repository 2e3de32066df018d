import { basename, dirname } from 'node:path';
import type { BoardRef, BoardStore } from '../port/board.js';
import type { ArchiveBatch, CollectBatch } from '../port/types.js';
import { monotonicMs, type Clock } from '../clock.js';
import { boardView, columnCounts, columnWindow, dataVersion, positionInColumn } from './board.js';
import { addComment, commentsForTask } from './comments.js';
import { loadTaskContext } from './context.js';
import { takeEvents } from './cursors.js';
import { BoardCorrupt, type BoardUnusable } from '../errors.js';
import { checkpointWal, corruptBoardError, INTEGRITY_RECHECK_MS, openStore, userVersion, verifyIntegrity, type OpenOptions, type Store } from './db.js';
import { loadBoardFacts } from './diagnostics.js';
import { listHosts, seeHost } from './hosts.js';
import { cooldownOf, dueSchedules, endedRunsWithWorkers, lastRun, noteRespawnGuarded, openRuns, promotableTodos, promoteReady, readyQueue, reclaimGhost, recoverableBlocked, recoverBlocked, releaseSchedule, runningCounts, runningTasks } from './dispatch.js';
import { eventsAfter, eventsForTask, recentEvents, recordEvent } from './events.js';
import { attachSupervisor, blockRun, checkOwnership, claimFirst, claimTask, commentFromRun, completeRun, createFromRun, extendClaim, heartbeat, renewLease, recordExit, recordFailedRun, recordSpawn, releaseRun, reviewRun } from './lease.js';
import { approveTask, archiveTask, blockTask, completeTask, stopAndBlock, promoteTask, reopenTask, requestChanges, scheduleTask, unblockTask } from './lifecycle.js';
import { childIds, linkTasks, parentIds, unfinishedParents, unlinkTasks } from './links.js';
import { archiveDoneTasks, collectedTasks, collectHistory, reclaimFreePages } from './retention.js';
import { runById, runsForTask } from './runs.js';
import { readStatsFacts } from './stats.js';
import { countTasks, createTask, createTasks, editTask, getTask, listTasks, listTasksJson, showTask, toTask } from './tasks.js';
import { BoardWatcher } from './watch.js';
import { quickCheckOffThread } from './check-thread.js';

/**
 * The SQLite board's identity: its file; its name for people, the slug of a named board
 * (`…/boards/<slug>/board.db`) or else the path; and the folder beside it for logs and workspaces.
 */
export function sqliteRef(path: string): BoardRef {
  const dataDir = dirname(path);
  const name = basename(dirname(dataDir)) === 'boards' ? basename(dataDir) : path;
  return { kind: 'sqlite', location: path, name, dataDir };
}

/**
 * The board port on SQLite: the only adapter so far. Each method runs one of the store's functions
 * in its own transaction on this adapter's own connection, queued one at a time, waiting for a busy
 * board without blocking the event loop (`Store.transaction`).
 */
export class SqliteBoard implements BoardStore {
  readonly ref: BoardRef;
  readonly shared = false;

  /** Opens the board at `path` (creating it, as openStore does, unless `mustExist`). */
  static open(path: string, options: Omit<OpenOptions, 'waitAsync'> = {}): SqliteBoard {
    return new SqliteBoard(openStore(path, { ...options, waitAsync: true }));
  }

  /**
   * @param store a connection of its own, opened with `waitAsync` (no other caller may use it).
   * @param integrityRecheckMs how often `maintain` (each dispatcher tick) runs the full integrity check
   *   again, counted from the open.
   */
  constructor(
    private readonly store: Store,
    private readonly integrityRecheckMs = INTEGRITY_RECHECK_MS,
  ) {
    this.ref = sqliteRef(store.path);
  }

  private integrityCheckedAt = monotonicMs();

  /** Set once corruption was met: every call after it is refused the same way. */
  private corrupt: BoardUnusable | null = null;

  /** `fn(store, ...args)` as a read or a write of its own. */
  private read<A extends unknown[], R>(fn: (store: Store, ...args: A) => R): (...args: A) => Promise<R> {
    return (...args) => this.transaction('read', () => fn(this.store, ...args));
  }

  private write<A extends unknown[], R>(fn: (store: Store, ...args: A) => R): (...args: A) => Promise<R> {
    return (...args) => this.transaction('write', () => fn(this.store, ...args));
  }

  /**
   * One transaction. Corruption met in it (a page only this call read) is refused as at open: the
   * connection is closed and the file copied aside (`BoardUnusable`, naming the copy), and every
   * later call on this board is refused the same way.
   */
  private async transaction<R>(kind: 'read' | 'write', body: () => R): Promise<R> {
    if (this.corrupt) throw this.corrupt;
    try {
      return await this.store.transaction(kind, body);
    } catch (err) {
      if (this.corrupt) throw this.corrupt; // queued behind the call that met it
      if (!(err instanceof BoardCorrupt)) throw err;
      throw this.refuseCorrupt(err.detail);
    }
  }

  /** Corruption met: the connection closed, the file copied aside, and this call and every later one refused the same way. */
  private refuseCorrupt(detail: string): BoardUnusable {
    this.store.close();
    this.corrupt = corruptBoardError(this.store.path, detail);
    return this.corrupt;
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
    stopAndBlock: this.write((store, id: string, reason?: string | null) => {
      const { task, stopped } = stopAndBlock(store, id, reason);
      return { task: toTask(store, task), stopped };
    }),
    note: this.write(recordEvent),
    link: this.write(linkTasks),
    unlink: this.write(unlinkTasks),
  };

  readonly lease = {
    claim: this.write(claimTask),
    claimFirst: this.write(claimFirst),
    check: this.read(checkOwnership),
    heartbeat: this.write(heartbeat),
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
    extend: this.write(extendClaim),
    renew: this.write(renewLease),
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

  /** A file board keeps no logs: they are files on its one host (port's RunLogs). */
  readonly logs = {
    ship: async () => undefined,
    since: async () => [],
    tail: async () => [],
  };

  readonly hosts = {
    seen: this.write(seeHost),
    list: this.read(listHosts),
  };

  readonly retention = {
    collect: (batch: CollectBatch) => this.transaction(batch.dryRun ? 'read' : 'write', () => collectHistory(this.store, batch)),
    archiveDone: (batch: ArchiveBatch) => this.transaction(batch.dryRun ? 'read' : 'write', () => archiveDoneTasks(this.store, batch)),
    reclaimSpace: this.write(reclaimFreePages),
    collectedTasks: this.read(collectedTasks),
  };

  watch(onChange: () => void): () => void {
    const watcher = new BoardWatcher(this.store, onChange, dataVersion(this.store));
    return () => watcher.close();
  }

  async describe(): Promise<{ schemaVersion: number; storage: Record<string, string> }> {
    return { schemaVersion: userVersion(this.store.db), storage: { journal_mode: this.store.journalMode } };
  }

  /**
   * The WAL folded back and truncated once the queue is idle (`checkpointWal` skips itself inside a
   * transaction); and, every `integrityRecheckMs`, the full integrity check a dispatcher made at its
   * start, as a read (writers go on): corruption found is refused and copied aside as at open.
   */
  async maintain(options: { afterDiskFull?: boolean } = {}): Promise<void> {
    await this.store.settled();
    checkpointWal(this.store, { force: options.afterDiskFull ?? false });
    if (monotonicMs() - this.integrityCheckedAt < this.integrityRecheckMs) return;
    this.integrityCheckedAt = monotonicMs();
    await this.verify();
  }

  /**
   * The full integrity check on a thread of its own (check-thread.ts): writers, and this process's
   * event loop, go on meanwhile. Corruption found is refused and copied aside as at open.
   */
  async verify(): Promise<void> {
    if (this.corrupt) throw this.corrupt;
    if (this.store.path === ':memory:') return this.transaction('read', () => verifyIntegrity(this.store));
    const problem = await quickCheckOffThread(this.store.path, this.store.busyTimeoutMs);
    this.integrityCheckedAt = monotonicMs();
    if (problem === null || this.corrupt) return;
    await this.store.settled();
    throw this.refuseCorrupt(problem);
  }

  /** A file board has no clock of its own: the host's. */
  async now(hostClock: Clock): Promise<number> {
    return hostClock.now();
  }

  async close(): Promise<void> {
    await this.store.settled();
    this.store.close();
  }
}
