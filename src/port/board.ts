/**
 * The board port: everything the program asks of a board, asynchronous, in narrow capabilities, so
 * that a second backend (PostgreSQL, issue 14) is an adapter behind this interface and nothing else.
 * SQLite's adapter is `src/store/sqlite-board.ts`; the conformance suite (`test/conformance/`) holds
 * every adapter to the same behaviour.
 *
 * Each method is one transaction of its own: it commits or changes nothing. Refusals are the core's
 * errors (`Refused`, `NotFound`, `InvalidInput`), and faults of the board or its machine are
 * `BoardUnusable` (`BoardLocked` when another writer held it past the busy timeout, `BoardFault` for
 * the machine's faults, `BoardCorrupt`, `WriteOutcomeUnknown` when a commit failed in a way that may
 * or may not have written): never a driver's own error codes. (SQLite's adapter copies a corrupt
 * file aside and says so in a `BoardUnusable`.)
 *
 * The board's data is core/types.ts; what the calls take and give besides is port/types.ts.
 */
import type { BoardView, Card, ColumnSort, CommentRow, EventRow, HostRow, RunRow, Status, Task, TaskRow, ViewQuery } from '../core/types.js';
import type { FailurePolicy } from '../core/breaker.js';
import type { Clock } from '../clock.js';
import type { RunIdentity } from '../core/run.js';
import type { ArchiveBatch, BatchItem, BoardFacts, CollectBatch, CollectedTask, CollectResult, GcCursor, SpaceReclaimed, ClaimCandidate, ClaimCaps, ClaimResult, CreateInput, CreateResult, EditInput, ExitRecord, HeartbeatSource, ListFilter, ProcessProbe, PromoteOptions, RecentEvents, Release, StatsFacts, Take, TaskContext, TaskDetail, UnfinishedParent, WorkerExit } from './types.js';

/** Which board this is: what logs, workspaces, the header and workers are told, instead of a file path. */
export interface BoardRef {
  kind: 'sqlite' | 'postgres';
  /** Where the board is: a file path for SQLite (a URL for a server backend). */
  location: string;
  /** A name for people (the board's header): a named board's slug, else where it is. */
  name: string;
  /** The folder that holds the board's logs and workspaces, on this host. */
  dataDir: string;
}

/** Where the board is, as people may be shown it: a SQLite board's path, a server board's URL without its password. */
export function shownLocation(ref: BoardRef): string {
  return ref.kind === 'sqlite' ? ref.location : ref.name;
}

/** Reading tasks, their runs, events, comments and links. */
export interface TaskReads {
  get(id: string): Promise<Task>;
  show(id: string): Promise<TaskDetail>;
  list(filter?: ListFilter): Promise<Task[]>;
  /** The same tasks as `list`, as the bytes of a JSON array, one task a line, built by the backend (`list --json` on a large board). */
  listJson(filter?: ListFilter): Promise<Buffer>;
  count(): Promise<number>;
  runs(taskId: string): Promise<RunRow[]>;
  run(taskId: string, runId: number): Promise<RunRow | undefined>;
  events(taskId: string): Promise<EventRow[]>;
  /** The latest events (by age or count), oldest first, and the id to follow on from. */
  recentEvents(query: RecentEvents): Promise<{ events: EventRow[]; cursor: number }>;
  eventsAfter(afterId: number, limit: number): Promise<EventRow[]>;
  comments(taskId: string): Promise<CommentRow[]>;
  /** What a worker is handed: the task, its parents' results, comments. */
  context(taskId: string): Promise<TaskContext>;
  parents(childId: string): Promise<string[]>;
  children(parentId: string): Promise<string[]>;
  unfinishedParents(childId: string): Promise<UnfinishedParent[]>;
}

/** What people (the CLI, the board's keys) do to tasks. Each checks the transition table first. */
export interface TaskTransitions {
  create(input: CreateInput): Promise<CreateResult>;
  createMany(items: readonly BatchItem[], options?: { dryRun?: boolean }): Promise<CreateResult[]>;
  edit(id: string, input: EditInput): Promise<Task>;
  comment(id: string, text: string): Promise<CommentRow>;
  block(id: string, reason?: string | null): Promise<Task>;
  unblock(id: string): Promise<Task>;
  schedule(id: string, until: number, reason?: string | null): Promise<Task>;
  promote(id: string, options?: PromoteOptions): Promise<Task>;
  complete(id: string, summary?: string | null): Promise<Task>;
  approve(id: string): Promise<Task>;
  requestChanges(id: string, feedback: string): Promise<Task>;
  reopen(id: string): Promise<Task>;
  archive(id: string): Promise<Task>;
  /**
   * A person's block of a task in any status it may be blocked from. A running task's run is closed
   * `blocked` (not counted) and its claim dropped in the same transaction; `stopped` is that run, whose
   * worker the caller stops once this has committed.
   */
  stopAndBlock(id: string, reason?: string | null): Promise<{ task: Task; stopped: RunIdentity | null }>;
  /** An event on the task's history that changes nothing else (a supervisor's note: processes stopped, a workspace removed). */
  note(taskId: string, kind: string, payload?: Record<string, unknown>): Promise<void>;
  link(parentId: string, childId: string): Promise<TaskRow>;
  unlink(parentId: string, childId: string): Promise<TaskRow>;
}

/** A run's lease and its own writes, each fenced by the run's identity (a stale run is refused). */
export interface RunLease {
  claim(taskId: string, options: { profile: string | null; leaseMs: number; caps?: ClaimCaps }): Promise<ClaimResult>;
  /**
   * Claims the first of `candidates`, in their order, that can be claimed, in one call: a candidate
   * another claimer holds or took first, or one that is gone, is passed over (dispatchers reading the
   * same ready queue do not each pay a call for every task another won). The answer is the first
   * candidate's not passed over (claimed, at a cap, or sent back to todo: the caller goes on with
   * those after it), or null when every one was.
   */
  claimFirst(candidates: readonly ClaimCandidate[], options: { leaseMs: number }): Promise<ClaimResult | null>;
  /** The task, if this run still holds it; `Refused` otherwise. */
  check(identity: RunIdentity): Promise<TaskRow>;
  heartbeat(identity: RunIdentity, options?: { note?: string | null; source?: HeartbeatSource }): Promise<TaskRow>;
  attachSupervisor(identity: RunIdentity, supervisorPid: number): Promise<void>;
  recordSpawn(identity: RunIdentity, spawn: { workerPid: number; argv: readonly string[]; workspace: string }): Promise<void>;
  complete(identity: RunIdentity, summary?: string | null): Promise<TaskRow>;
  block(identity: RunIdentity, reason: string): Promise<TaskRow>;
  review(identity: RunIdentity, summary?: string | null): Promise<TaskRow>;
  create(identity: RunIdentity, input: CreateInput): Promise<CreateResult>;
  comment(identity: RunIdentity, text: string): Promise<void>;
  recordExit(identity: RunIdentity, exit: WorkerExit): Promise<ExitRecord>;
  /** A run that ended without a recorded exit (its supervisor died, or the worker never started). */
  recordFailure(identity: RunIdentity, outcome: 'crashed' | 'spawn_failed', error: string, failures: FailurePolicy, uncounted?: { retryInMs: number }): Promise<TaskRow>;
  release(identity: RunIdentity, release: Release): Promise<TaskRow>;
  /** A compare-and-set on the lease the caller judged: refused if it moved since. */
  extend(identity: RunIdentity, expectedClaimExpires: number | null, payload: Record<string, unknown>): Promise<TaskRow>;
  /**
   * The run's supervisor renews its own lease (now + the run's lease, `claim_extended` from
   * `supervisor`), only while the run was heard from within `maxStaleMs` of the board's time;
   * `renewed: false` leaves a silent run's lease to run out. Refused once the run no longer holds the task.
   */
  renew(identity: RunIdentity, options: { maxStaleMs: number }): Promise<{ renewed: boolean; task: TaskRow }>;
}

/** What the dispatcher's tick reads and does. */
export interface DispatchQueries {
  runningTasks(): Promise<TaskRow[]>;
  /** Running tasks, in all and by assignee. */
  runningCounts(): Promise<{ total: number; byAssignee: Map<string, number> }>;
  openRuns(): Promise<RunRow[]>;
  /** Runs that ended in [from, to) and had a worker process. */
  endedRunsWithWorkers(from: number, to: number): Promise<RunRow[]>;
  dueSchedules(now: number): Promise<TaskRow[]>;
  promotableTodos(): Promise<TaskRow[]>;
  recoverableBlocked(boardLimit: number, taskId?: string): Promise<TaskRow[]>;
  readyQueue(limit: number): Promise<TaskRow[]>;
  lastRun(taskId: string): Promise<RunRow | undefined>;
  /** A run's cooldown (a rate limit, a failure not the task's), when it was set and when it ends; null when it has none. */
  cooldownOf(runId: number): Promise<{ setAt: number; until: number } | null>;
  /** Says once per cooldown that the task was held back (`respawn_guarded`); false when it was said already. */
  noteRespawnGuarded(taskId: string, runId: number, payload: Record<string, unknown>): Promise<boolean>;
  /** todo → ready once every parent is finished; `Refused` when it is not. */
  promoteReady(taskId: string): Promise<TaskRow>;
  releaseSchedule(taskId: string): Promise<TaskRow>;
  recoverBlocked(taskId: string, boardLimit: number): Promise<TaskRow>;
  reclaimGhost(taskId: string): Promise<TaskRow>;
  /** Events of `kinds` past the named cursor, the cursor moved past them in the same transaction. */
  takeEvents(cursor: string, kinds: readonly string[], limit: number): Promise<Take>;
}

/** The board's windows: what the screen draws, a column at a time. */
export interface BoardWindows {
  counts(filter?: string): Promise<Record<Status, number>>;
  window(status: Status, offset: number, limit: number, filter?: string, sort?: ColumnSort): Promise<Card[]>;
  position(status: Status, taskId: string, filter?: string, sort?: ColumnSort): Promise<number | null>;
  /** The columns of a view, each around its cursor, read in one snapshot (what the board draws). */
  view(query: ViewQuery): Promise<BoardView>;
}

/** The latest this much of each run's output is kept in a board other hosts share; the whole log stays on its host. */
export const SHIPPED_LOG_MAX_BYTES = 1024 * 1024;

/** A piece of a run's log the board keeps (a board other hosts share). */
export interface ShippedLog {
  id: number;
  run_id: number;
  /** Whole log lines, as the run's log file has them. */
  text: string;
}

/**
 * The runs' output kept in the board itself, so that every host can read it (`kanban log`, the
 * drawer): on a board other hosts share, each supervisor ships its run's log lines here, the latest
 * SHIPPED_LOG_MAX_BYTES of each run kept (the whole log stays on the host that ran it). A file board
 * keeps none: its logs are files on its one host, and these calls do nothing.
 */
export interface RunLogs {
  /** Appends whole lines of the run's log; refused when the run is not this identity's. */
  ship(identity: RunIdentity, text: string): Promise<void>;
  /** A task's shipped pieces after `afterId`, oldest first, at most about `maxBytes` of text. */
  since(taskId: string, afterId: number, maxBytes: number): Promise<ShippedLog[]>;
  /** A task's latest shipped pieces, about `maxBytes` of text, oldest first. */
  tail(taskId: string, maxBytes: number): Promise<ShippedLog[]>;
}

/**
 * Retention (`kanban gc`, a dispatcher's `gc:` schedule): the history of tasks archived long ago, and
 * done tasks archived once they are old enough. Each call is one short transaction over a batch, so
 * that a pass over a large board never holds it for long; the caller sizes the batches.
 */
export interface Retention {
  /**
   * Removes the events, comments and runs (and output kept in the board) of a batch of archived
   * tasks, and marks where it got to. The task itself stays, archived, with its title, body, summary
   * and links.
   */
  collect(batch: CollectBatch): Promise<CollectResult>;
  /** Archives a batch of old done tasks; the ids archived (or that would be), and where the next batch starts. */
  archiveDone(batch: ArchiveBatch): Promise<{ ids: string[]; next: GcCursor | null }>;
  /** Gives free space back to the file system, at most `maxBytes` this call. */
  reclaimSpace(maxBytes: number): Promise<SpaceReclaimed>;
  /**
   * Those of `ids` whose history a pass removed and that have stayed archived since: what a host may
   * still hold of them on its disk (a log, a scratch workspace) is left over, from a pass killed
   * between its commit and its files, or run on another host of a shared board.
   */
  collectedTasks(ids: readonly string[]): Promise<CollectedTask[]>;
}

/** The hosts that dispatch on the board. */
export interface HostRegistry {
  /**
   * This host is alive now (each tick): its row made or brought up to date in the board's time.
   * Returns the boot id the board had for it before (null: never seen), read in the same transaction,
   * so that of several dispatchers on a host that just rebooted exactly one sees the change.
   */
  seen(host: { id: string; name: string; bootId: string }): Promise<{ previousBootId: string | null }>;
  list(): Promise<HostRow[]>;
}

/** Facts the pure diagnostic rules and the stats report judge. */
export interface BoardFactReads {
  diagnostics(probe: ProcessProbe, recentSince: number): Promise<BoardFacts>;
  stats(window: { now: number; since: number; slowest: number }): Promise<StatsFacts>;
}

export interface BoardStore {
  readonly ref: BoardRef;
  /**
   * Other hosts share this board (a server backend): they may take back a run whose lease ran out but
   * cannot see its processes, so a run's supervisor renews its own lease and stops its worker before
   * the lease would run out unrenewed. A file board is one host's, whose dispatchers see its processes.
   */
  readonly shared: boolean;
  readonly tasks: TaskReads;
  readonly transitions: TaskTransitions;
  readonly lease: RunLease;
  readonly dispatch: DispatchQueries;
  readonly windows: BoardWindows;
  readonly facts: BoardFactReads;
  readonly hosts: HostRegistry;
  readonly logs: RunLogs;
  readonly retention: Retention;
  /**
   * Calls `onChange` soon after another connection (another process, or another BoardStore on the
   * same board) commits a change; not for this one's own writes. A change committed after the call
   * is never missed: SQLite compares with the board's state at the call, and PostgreSQL, which hears
   * nothing until its LISTEN is in place, calls it once then, after each reconnect, and at the first
   * look of its polling where it cannot listen. Returns the function that stops it.
   */
  watch(onChange: () => void): () => void;
  /**
   * The board's schema version, and what its backend says of its storage (SQLite: its journal mode):
   * `kanban init`. `created`: this open made the board (a server backend says; SQLite's caller knows
   * from the file).
   */
  describe(): Promise<{ schemaVersion: number; storage: Record<string, string>; created?: boolean }>;
  /**
   * Upkeep after a dispatcher's tick, never raising: SQLite folds a grown WAL back into the board
   * (`afterDiskFull`: whatever its size). A server backend has nothing to do.
   */
  maintain(options?: { afterDiskFull?: boolean }): Promise<void>;
  /**
   * The full integrity check, without holding up this process (SQLite: every page read on a thread
   * of its own; the board's screen opens with the cheap check and runs this once it is drawn).
   * Corruption found is refused as at open (`BoardUnusable`). A server backend has nothing to do.
   */
  verify(): Promise<void>;
  /**
   * The board's time (epoch ms), what leases are judged by: a server backend's own clock, so hosts
   * whose clocks drift still agree; a file board has none, so it is `hostClock`'s.
   */
  now(hostClock: Clock): Promise<number>;
  /** Waits for the transaction in flight, then closes. */
  close(): Promise<void>;
}
