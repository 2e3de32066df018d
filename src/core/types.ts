/** The board's data as every backend and caller sees it: statuses, outcomes, row shapes (field names equal the column names, CONTRACT.md "Tasks"), the board's columns and sort orders. Pure. */

export const STATUSES = [
  'triage',
  'todo',
  'ready',
  'running',
  'blocked',
  'scheduled',
  'review',
  'done',
  'archived',
] as const;
export type Status = (typeof STATUSES)[number];

/** A task in one of these is over; a parent in one no longer holds its children back. */
export const FINISHED_STATUSES: readonly Status[] = ['done', 'archived'];
/** Statuses a task can still leave for `done`. */
export const OPEN_STATUSES: readonly Status[] = STATUSES.filter((s) => !FINISHED_STATUSES.includes(s));
/** Whether a task is over (done or archived): a parent that no longer holds its children back. */
export function isFinished(status: Status): boolean {
  return FINISHED_STATUSES.includes(status);
}

export function isStatus(value: string): value is Status {
  return (STATUSES as readonly string[]).includes(value);
}

export const WORKSPACE_KINDS = ['scratch', 'dir', 'worktree'] as const;
export type WorkspaceKind = (typeof WORKSPACE_KINDS)[number];

export const RUN_OUTCOMES = [
  'completed',
  'blocked',
  'review',
  'crashed',
  'rate_limited',
  'hung',
  'timed_out',
  'stale',
  'protocol_violation',
  'spawn_failed',
  'reclaimed',
  'gave_up',
] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];

export interface TaskRow {
  id: string;
  title: string;
  body: string;
  status: Status;
  assignee: string | null;
  priority: number;
  claim_lock: string | null;
  claim_expires: number | null;
  worker_pid: number | null;
  current_run_id: number | null;
  last_heartbeat_at: number | null;
  consecutive_failures: number;
  max_retries: number | null;
  max_runtime_seconds: number | null;
  scheduled_until: number | null;
  status_reason: string | null;
  summary: string | null;
  workspace_kind: WorkspaceKind;
  workspace_path: string | null;
  idempotency_key: string | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  completed_at: number | null;
}


/** A task as the CLI prints it: its row plus its links. */
export interface Task extends TaskRow {
  parents: string[];
  children: string[];
}

/** A host that dispatches on the board (`kanban hosts`): times in the board's clock. */
export interface HostRow {
  id: string;
  name: string;
  boot_id: string;
  first_seen_at: number;
  last_seen_at: number;
  /** When this boot was first seen. */
  booted_at: number;
}

export interface RunRow {
  id: number;
  task_id: string;
  profile: string | null;
  status: 'running' | 'ended';
  claim_lock: string;
  worker_pid: number | null;
  started_at: number;
  ended_at: number | null;
  last_heartbeat_at: number | null;
  outcome: RunOutcome | null;
  summary: string | null;
  error: string | null;
  exit_code: number | null;
  supervisor_pid: number | null;
  /** The signal that ended the worker (SIGKILL, …), when it did not exit by itself. */
  signal: string | null;
  lease_ms: number;
}

export interface EventRow {
  id: number;
  task_id: string;
  run_id: number | null;
  kind: string;
  payload: Record<string, unknown>;
  created_at: number;
}

export interface CommentRow {
  id: number;
  task_id: string;
  run_id: number | null;
  author: string;
  body: string;
  created_at: number;
}

/** The board's columns, in order (archived only when asked for). */
export const BOARD_COLUMNS: readonly Status[] = STATUSES.filter((s) => s !== 'archived');

/** A task as a card on the board: its row, and why it is held where it is. */
export interface Card extends TaskRow {
  /** For a blocked task: the breaker (`gave_up`, recovers when the limit allows) or a sticky block. */
  block_kind: 'breaker' | 'sticky' | null;
  /** For a ready task held back by its last run's cooldown (a rate limit, a start that failed for the config): why and until when. */
  held_by: 'rate_limited' | 'spawn_failed' | null;
  held_until: number | null;
}

/**
 * A column's order. `column`, the default: finished columns show the latest first, the others
 * queue order (priority, then age). The others, chosen with `O` on the board, apply to any column.
 */
export const COLUMN_SORTS = ['column', 'newest', 'oldest', 'title'] as const;
export type ColumnSort = (typeof COLUMN_SORTS)[number];

/** `kanban list --sort`. */
export const SORT_KEYS = ['status', 'priority', 'created', 'updated', 'title', 'id'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

/** A column's cursor on the board: the task it is on (followed when the column changes) and its position. */
export interface Cursor {
  id: string | null;
  index: number;
}

/** What the board reads in one snapshot: the columns shown, each around its cursor, `perColumn` cards each. */
export interface ViewQuery {
  statuses: readonly Status[];
  cursors: Partial<Record<Status, Cursor>>;
  filter: string;
  perColumn: number;
  sorts?: Partial<Record<Status, ColumnSort>>;
}

export interface ColumnView {
  status: Status;
  count: number;
  /** Position of the first card shown. */
  offset: number;
  /** Position of the cursor (0 when empty). */
  index: number;
  /** The order its cards are in (`O` changes it). */
  sort: ColumnSort;
  cards: Card[];
}

export interface BoardView {
  counts: Record<Status, number>;
  columns: ColumnView[];
}
