import { existsSync, readdirSync, rmSync } from 'node:fs';
import type { BoardStore } from './port/board.js';
import type { CollectedTask, GcCursor } from './port/types.js';
import { logsDir, taskLogPath, taskOfLogFile } from './workers/runlog.js';
import { defaultWorkspacePath, removeScratchWorkspace, workspacesRoot } from './workers/workspace.js';
import { isTaskId } from './ids.js';
import { errorMessage } from './errors.js';
import { monotonicMs } from './clock.js';

/**
 * Retention (`kanban gc`, a dispatcher's `gc:` schedule): done tasks completed long enough ago are
 * archived (when asked), then the history of tasks archived long enough ago goes (events, comments,
 * runs, the output kept in the board, this host's log file and scratch workspace of each), then
 * what this host's disk still holds of tasks collected before goes, then the board gives the space
 * back to the file system. The task stays, archived, with its title, body, summary and links.
 *
 * The work is done in batches, each one short transaction, sized as it goes so that none holds the
 * board much longer than `maxBatchMs`, and each followed by as long a pause: a dispatcher and its
 * workers write on between them.
 */

export interface GcPolicy {
  /** The history of tasks archived at least this long ago goes. */
  olderThanMs: number;
  /** Done tasks completed at least this long ago are archived first; null: none are. */
  archiveDoneAfterMs: number | null;
}

export interface GcTally {
  dryRun: boolean;
  /** The board's time the pass started at: the limits count back from it. */
  at: number;
  archivedBefore: number;
  archivedDone: number;
  tasks: number;
  events: number;
  comments: number;
  runs: number;
  shippedLogs: number;
  logFiles: number;
  workspaces: number;
  /** What could not be removed from this host's disk, one line each. */
  problems: string[];
  freedBytes: number;
  freeBytes: number;
  /** The board gives space back to the file system (SQLite boards this version made). */
  incremental: boolean;
  batches: number;
  longestBatchMs: number;
}

/** The longest a batch should hold the board (issue 15: ~50 ms). */
export const MAX_BATCH_MS = 50;
const FIRST_BATCH = 32;
const LARGEST_BATCH = 4096;
/** Free space given back per step: a few megabytes, a short write each. */
const RECLAIM_STEP_BYTES = 4 * 1024 * 1024;

/** Task ids asked about at a time when sweeping what is left on disk (their files removed in the same step). */
const SWEEP_BATCH = 100;

type Phase = 'archive' | 'collect' | 'sweep' | 'reclaim' | 'done';

/** One pass, run to its end at once (`kanban gc`) or a slice at a time (a dispatcher's ticks). */
export class GcPass {
  readonly tally: GcTally;
  private phase: Phase;
  /** Done tasks completed before this are archived first (null: none are). */
  private readonly doneBefore: number | null;
  private cursor: GcCursor | null = null;
  private size = FIRST_BATCH;
  /** The tasks this host's disk holds files of, not asked about yet (listed when the sweep starts). */
  private onDisk: string[] | null = null;

  constructor(
    private readonly board: BoardStore,
    policy: GcPolicy,
    now: number,
    private readonly options: { dryRun?: boolean; maxBatchMs?: number } = {},
  ) {
    const dryRun = options.dryRun ?? false;
    this.tally = {
      dryRun,
      at: now,
      archivedBefore: now - policy.olderThanMs,
      archivedDone: 0,
      tasks: 0,
      events: 0,
      comments: 0,
      runs: 0,
      shippedLogs: 0,
      logFiles: 0,
      workspaces: 0,
      problems: [],
      freedBytes: 0,
      freeBytes: 0,
      incremental: false,
      batches: 0,
      longestBatchMs: 0,
    };
    this.doneBefore = policy.archiveDoneAfterMs === null ? null : now - policy.archiveDoneAfterMs;
    this.phase = this.doneBefore === null ? 'collect' : 'archive';
  }

  get finished(): boolean {
    return this.phase === 'done';
  }

  /** Runs batches until the pass is over or `budgetMs` has gone; true once it is over. */
  async run(budgetMs = Infinity): Promise<boolean> {
    const until = monotonicMs() + budgetMs;
    while (this.phase !== 'done' && monotonicMs() < until) await this.step();
    return this.finished;
  }

  private async step(): Promise<void> {
    const dryRun = this.tally.dryRun;
    switch (this.phase) {
      case 'archive': {
        const { ids, next } = await this.timed(() => this.board.retention.archiveDone({ before: this.doneBefore!, limit: this.size, after: dryRun ? this.cursor : null, dryRun }));
        this.tally.archivedDone += ids.length;
        this.advance(next, 'collect');
        return;
      }
      case 'collect': {
        const batch = await this.timed(() => this.board.retention.collect({ before: this.tally.archivedBefore, limit: this.size, after: dryRun ? this.cursor : null, dryRun }));
        this.tally.tasks += batch.tasks.length;
        this.tally.events += batch.events;
        this.tally.comments += batch.comments;
        this.tally.runs += batch.runs;
        this.tally.shippedLogs += batch.shippedLogs;
        for (const task of batch.tasks) this.removeFiles(task);
        this.advance(batch.next, 'sweep');
        return;
      }
      case 'sweep': {
        // Files of tasks collected before: by a pass killed between its commit and its files, or by
        // another host of a shared board (each host holds the logs and workspaces of what it ran).
        this.onDisk ??= tasksWithFiles(this.board.ref.dataDir);
        const ids = this.onDisk.splice(0, SWEEP_BATCH);
        // The scratch workspace kanban made for it (`workspaces/<id>`), whatever path the task records.
        const made = (task: CollectedTask) => ({ ...task, workspace_path: task.workspace_kind === 'scratch' ? defaultWorkspacePath(this.board.ref.dataDir, task.id) : null });
        const collected = ids.length > 0 ? await this.board.retention.collectedTasks(ids) : [];
        for (const task of collected) {
          // Asked again just before: one taken out of the archive since may be running on this host now.
          if (!dryRun && (await this.board.retention.collectedTasks([task.id])).length === 0) continue;
          this.removeFiles(made(task));
        }
        if (this.onDisk.length === 0) this.phase = dryRun ? 'done' : 'reclaim';
        return;
      }
      case 'reclaim': {
        const space = await this.timed(() => this.board.retention.reclaimSpace(RECLAIM_STEP_BYTES));
        this.tally.incremental = space.incremental;
        this.tally.freedBytes += space.freedBytes;
        this.tally.freeBytes = space.freeBytes;
        if (space.freedBytes === 0 || space.freeBytes === 0) this.phase = 'done';
        return;
      }
      case 'done':
        return;
    }
  }

  /** The next batch starts at `next`; none (null): on to the next phase, from the start. */
  private advance(next: GcCursor | null, then: Phase): void {
    this.cursor = next;
    if (next === null) this.phase = then;
  }

  /** A batch, timed: the next one is halved when this one took most of the limit, doubled when it took little. */
  private async timed<T>(batch: () => Promise<T>): Promise<T> {
    const started = monotonicMs();
    const result = await batch();
    const ms = monotonicMs() - started;
    const limit = this.options.maxBatchMs ?? MAX_BATCH_MS;
    this.tally.batches++;
    this.tally.longestBatchMs = Math.max(this.tally.longestBatchMs, ms);
    if (ms > limit * 0.8) this.size = Math.max(1, Math.floor(this.size / 2));
    else if (ms < limit / 4) this.size = Math.min(LARGEST_BATCH, this.size * 2);
    // As long again with the board left alone: a writer waiting on it (SQLite's busy handler sleeps
    // between tries) gets in, rather than finding the next batch there each time it looks.
    if (!this.tally.dryRun) await new Promise((resolve) => setTimeout(resolve, Math.max(1, ms)));
    return result;
  }

  /** The task's log file and its scratch workspace on this host (the workspace only inside the workspaces root). */
  private removeFiles(task: { id: string; workspace_kind: string; workspace_path: string | null }): void {
    const dataDir = this.board.ref.dataDir;
    const log = taskLogPath(dataDir, task.id);
    if (existsSync(log)) {
      try {
        if (!this.tally.dryRun) rmSync(log, { force: true });
        this.tally.logFiles++;
      } catch (err) {
        this.tally.problems.push(`${task.id}: its log ${log} was left: ${errorMessage(err)}`);
      }
    }
    if (task.workspace_kind !== 'scratch' || task.workspace_path === null || !existsSync(task.workspace_path)) return;
    if (this.tally.dryRun) {
      this.tally.workspaces++;
      return;
    }
    const removed = removeScratchWorkspace(task.workspace_path, dataDir);
    if (removed.removed) this.tally.workspaces++;
    else this.tally.problems.push(`${task.id}: its workspace ${removed.path} was left: ${removed.reason}`);
  }
}

/** The tasks named by a log or a workspace under the data dir (`logs/<id>.log`, `workspaces/<id>`). */
function tasksWithFiles(dataDir: string): string[] {
  const names = (dir: string) => {
    try {
      return readdirSync(dir);
    } catch {
      return []; // none yet, or unreadable: nothing to sweep there
    }
  };
  const logs = names(logsDir(dataDir)).flatMap((name) => taskOfLogFile(name) ?? []);
  const workspaces = names(workspacesRoot(dataDir)).filter(isTaskId);
  return [...new Set([...logs, ...workspaces])].sort();
}

/** A pass in words: what went (or would go), one line. */
export function describeGc(tally: GcTally): string {
  const would = tally.dryRun;
  const archived = tally.archivedDone > 0 ? `${would ? 'would archive' : 'archived'} ${count(tally.archivedDone, 'done task')}; ` : '';
  const what = [count(tally.events, 'event'), count(tally.comments, 'comment'), count(tally.runs, 'run'), count(tally.logFiles, 'log file'), count(tally.workspaces, 'workspace')];
  if (tally.shippedLogs > 0) what.push(count(tally.shippedLogs, 'piece', 'of output kept in the board'));
  const history = `${would ? 'would remove' : 'removed'} the history of ${count(tally.tasks, 'task')} archived before ${new Date(tally.archivedBefore).toISOString()}: ${what.join(', ')}`;
  const space = !would && tally.freedBytes > 0 ? `; gave ${formatBytes(tally.freedBytes)} back to the file system` : '';
  return `${archived}${history}${space}`;
}

function count(n: number, noun: string, after = ''): string {
  return `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}${after ? ` ${after}` : ''}`;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/** A dispatcher's slice of retention per tick, at most this long (its batches stay short too). */
export const GC_SLICE_MS = 100;

/**
 * Retention on a long-running dispatcher's schedule (the config's `gc:`): a pass at its start and then
 * every `everyMs` after the last one ended (this host's monotonic clock: a step of the wall clock
 * neither hurries nor holds it), done a slice per tick so that the tick's other steps are not kept waiting.
 */
export class GcSchedule {
  private pass: GcPass | null = null;
  private nextAt: number | null = null;

  constructor(private readonly sliceMs = GC_SLICE_MS) {}

  /** This tick's slice; the pass's tally once it has ended (null: under way, or not due). */
  async tick(board: BoardStore, policy: GcPolicy, everyMs: number, now: number): Promise<GcTally | null> {
    if (this.pass === null) {
      if (this.nextAt !== null && monotonicMs() < this.nextAt) return null;
      this.pass = new GcPass(board, policy, now);
    }
    if (!(await this.pass.run(this.sliceMs))) return null;
    const { tally } = this.pass;
    this.pass = null;
    this.nextAt = monotonicMs() + everyMs;
    return tally;
  }
}

/** The config's `gc:` (seconds) as a policy. */
export function gcPolicyOf(gc: { older_than: number; archive_done_after?: number | undefined }): GcPolicy {
  return { olderThanMs: gc.older_than * 1000, archiveDoneAfterMs: gc.archive_done_after === undefined ? null : gc.archive_done_after * 1000 };
}
