/**
 * What the board port's calls take and give, besides the board's data (core/types.ts): the inputs of
 * transitions and queries, and the facts and records they answer with. Every adapter speaks these.
 */
import type { FailurePolicy } from '../core/breaker.js';
import type { Ending, EndingFacts } from '../core/ending.js';
import type { RunIdentity } from '../core/run.js';
import type { CommentRow, EventRow, RunOutcome, RunRow, SortKey, Status, Task, TaskRow, WorkspaceKind } from '../core/types.js';

/** What a run is handed: the task, what its parents produced, and what people said on it. */
export interface TaskContext {
  task: TaskRow;
  parents: Array<Pick<TaskRow, 'id' | 'title' | 'status' | 'summary' | 'workspace_path'>>;
  comments: CommentRow[];
}

export interface Take {
  /** The cursor did not exist: it now starts at the board's latest event, and nothing was taken. */
  started: boolean;
  events: TakenEvent[];
}

/** An event taken from a cursor, with its task as it is when taken (null: the task is gone). */
export interface TakenEvent {
  event: EventRow;
  task: Task | null;
}

export interface RunningFacts {
  claim_lock: string | null;
  current_run_id: number | null;
  claim_expires: number | null;
  last_heartbeat_at: number | null;
  started_at: number | null;
  worker_pid: number | null;
  /** The run the task points at, if there is one. */
  run: { status: 'running' | 'ended'; supervisor_pid: number | null; started_at: number } | null;
  host_local: boolean;
  supervisor_alive: boolean;
}

export interface TaskFacts {
  id: string;
  title: string;
  status: Status;
  assignee: string | null;
  status_reason: string | null;
  consecutive_failures: number;
  max_retries: number | null;
  updated_at: number;
  unfinished_parents: Array<{ id: string; status: Status }>;
  /** blocked / gave_up / unblocked events in time order (for blocked tasks all, else the recent ones). */
  block_events: Array<{ kind: 'blocked' | 'gave_up' | 'unblocked'; payload: Record<string, unknown>; created_at: number }>;
  last_comment_at: number | null;
  last_run: { outcome: string | null; error: string | null; exit_code: number | null } | null;
  /** A ready task whose last run was rate limited: when its cooldown ends. */
  cooldown_until: number | null;
  running: RunningFacts | null;
}

export interface BoardFacts {
  tasks: TaskFacts[];
  runningByAssignee: Record<string, number>;
}

export interface ProcessProbe {
  host: string;
  isRunProcess(pid: number | null, run: { taskId: string; runId: number }): boolean;
}

export interface RecentEvents {
  /** Only events stamped at or after this time (epoch ms). */
  sinceMs?: number;
  /** Only the last this many. */
  last?: number;
}

/** The caps a claim must stay within: counted inside the claim's own transaction. */
export interface ClaimCaps {
  /** At most this many tasks running on the board. */
  board: number;
  /** At most this many running with the claiming profile. */
  profile?: number;
}

/** One task a claim may take: its run's profile and the caps the run must stay within. */
export interface ClaimCandidate {
  taskId: string;
  profile: string | null;
  caps?: ClaimCaps;
  /**
   * The task has no assignee: the claim makes `profile` its assignee (event `assigned`, source
   * `default_assignee`) in the same transaction, and passes it over if it has one by then.
   */
  assign?: boolean;
}

export type ClaimResult =
  | { claimed: true; task: TaskRow; run: RunRow; identity: RunIdentity }
  | { claimed: false; task: TaskRow; reason: string; atCap?: 'board' | 'profile' };

export interface ExitRecord {
  outcome: RunOutcome;
  /** The worker had already closed its run (complete or block): nothing more was decided. */
  alreadyClosed: boolean;
  task: TaskRow | undefined;
}

/** Who vouched for the run: the worker itself, its output (the bridge), or its supervisor having started it. */
export type HeartbeatSource = 'worker' | 'bridge' | 'spawn';

export interface Release {
  /** `reclaimed` (lease expired, or a person) or `stale` (silent too long). */
  outcome: 'reclaimed' | 'stale';
  /**
   * The dispatcher took it back for silence: counted toward the breaker under this policy, so a
   * worker that hangs forever cannot loop forever. A person's reclaim passes none: not counted.
   */
  counted?: FailurePolicy;
  /** Compare-and-set on the lease as it was read: a heartbeat landing in between wins. */
  expectedClaimExpires?: number | null;
  payload: Record<string, unknown>;
}

export interface WorkerExit {
  exitCode: number | null;
  signal: string | null;
  failures: FailurePolicy;
  /** How the run ended, as the supervisor decided it from the exit and the worker's output. */
  ending?: Ending;
  /** Without an `ending`, it is decided from the exit alone, as for a plain command: */
  /** killed for running past max_runtime_seconds. */
  timedOut?: boolean;
  /** The profile's on_clean_exit: what exit 0 without reporting means. */
  onCleanExit?: EndingFacts['onCleanExit'];
  rateLimitCooldownMs?: number;
  /**
   * A fault of the machine the supervisor met during the run (the disk full or read-only, an I/O
   * error): a failure then is not the task's, so it is not counted, and the task waits `retryInMs`.
   */
  machineFault?: { fault: string; retryInMs: number };
}

export interface PromoteOptions {
  force?: boolean;
  /** Check and report, write nothing. */
  dryRun?: boolean;
}

export interface UnfinishedParent {
  id: string;
  status: string;
}

/**
 * The facts `kanban stats` (and the board's statistics) are computed from, read in one snapshot.
 * Whatever grows with the board's history (every run, every cooldown) is summed here, in SQL, on
 * covering indexes (schema v7), so the cost stays a walk of small indexes and a handful of rows
 * reach JavaScript; src/stats.ts does the rest.
 */
export interface StatsFacts {
  /** `completed_at` of every task finished (done, or archived since) at or after `since`. */
  completions: number[];
  /** Every run, counted per profile and outcome (`outcome` null: still running). */
  runs: RunGroup[];
  rateLimits: RateLimitFacts;
  /** The tasks with the most run time (a running run counts up to `now`), most first. */
  slowest: SlowTask[];
}

export interface RunGroup {
  profile: string | null;
  outcome: string | null;
  runs: number;
  /** Runs that have ended, and their summed length (ms; a run whose end precedes its start counts 0). */
  ended: number;
  ended_ms: number;
}

/**
 * Time tasks waited because of a rate limit. A run that ends rate limited sets a cooldown (its
 * `rate_limited` event: from the event's time until the event's `cooldown_until`); the task waited
 * from the event until the earliest of the cooldown's end, the start of the task's next run, and
 * `now`. Waits add up per task: two tasks held for the same ten minutes count twenty.
 */
export interface RateLimitFacts {
  /** Cooldowns ever set. */
  cooldowns: number;
  /** The waits, summed: all of them, and only their parts at or after `since`. */
  total_ms: number;
  since_ms: number;
  /** Cooldowns still holding their task back at `now` (not over, no run since). */
  waiting: number;
}

export interface SlowTask {
  id: string;
  title: string;
  run_ms: number;
  runs: number;
}

export interface BatchItem {
  input: CreateInput;
  /** Items earlier in the batch (their indexes) whose tasks are parents of this one, besides `input.parents`. */
  parentItems?: readonly number[];
  /** Names the item in an error: `line 3`. */
  label: string;
}

export interface CreateInput {
  title: string;
  body?: string;
  assignee?: string | null;
  priority?: number;
  parents?: readonly string[];
  /** Land in triage instead of the board's flow. */
  triage?: boolean;
  status?: 'todo' | 'ready' | 'blocked';
  maxRetries?: number | null;
  maxRuntimeSeconds?: number | null;
  workspace?: { kind: WorkspaceKind; path: string | null };
  idempotencyKey?: string;
}

export interface CreateResult {
  task: Task;
  /** False when the idempotency key matched an existing task, which is returned unchanged. */
  created: boolean;
}

export interface EditInput {
  title?: string;
  body?: string;
  assignee?: string | null;
  priority?: number;
  maxRetries?: number | null;
  maxRuntimeSeconds?: number | null;
  /** Drop a leftover claim (lock, lease, pid, run) from a task that is not running. */
  clearClaim?: boolean;
  resetFailures?: boolean;
}

export interface ListFilter {
  /** Default: every status but archived. */
  statuses?: readonly Status[];
  assignee?: string;
  sort?: SortKey;
  /** At most this many, the first in the sort order. */
  limit?: number;
}

export interface TaskDetail {
  task: Task;
  runs: RunRow[];
  events: EventRow[];
  comments: CommentRow[];
}

/** Where a retention pass is in its walk (archived tasks by archive time, then id): the next batch starts after it. */
export interface GcCursor {
  at: number;
  id: string;
}

/** An archived task whose history a batch removed (or would remove): what is left of it on this host's disk is the caller's. */
export interface CollectedTask {
  id: string;
  workspace_kind: string;
  workspace_path: string | null;
}

/**
 * One batch of `kanban gc`: archived tasks archived before `before` (epoch ms), at most `limit`, after
 * `after` (null: after the last task a pass collected; the board keeps that mark), oldest first.
 * `dryRun` counts and changes nothing.
 */
export interface CollectBatch {
  before: number;
  limit: number;
  after?: GcCursor | null;
  dryRun?: boolean;
}

export interface CollectResult {
  tasks: CollectedTask[];
  events: number;
  comments: number;
  runs: number;
  /** Pieces of run output kept in the board (a board other hosts share). */
  shippedLogs: number;
  /** Where the next batch starts; null when this one reached the end. */
  next: GcCursor | null;
}

/** One batch of done tasks completed before `before` to archive (`archived`, source gc), oldest first, after `after`. */
export interface ArchiveBatch {
  before: number;
  limit: number;
  after?: GcCursor | null;
  dryRun?: boolean;
}

/** The free space a board gives back to the file system (SQLite's incremental vacuum), a step at a time. */
export interface SpaceReclaimed {
  /** The board gives free pages back as it goes (new boards); false: it reuses them, the file keeps its size. */
  incremental: boolean;
  freedBytes: number;
  /** Free bytes still in the file. */
  freeBytes: number;
}
