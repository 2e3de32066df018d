import { needsPerson, type Finding, type Severity } from '../diagnostics/rules.js';
import type { Store } from '../store/db.js';
import { getTaskRow } from '../store/rows.js';
import { showTask, type TaskDetail } from '../store/tasks.js';
import type { Status } from '../core/types.js';
import { readLogTail, taskLogPath } from '../workers/runlog.js';
import { computeStats, statsWindow, type Stats } from '../stats.js';
import { readStatsFacts } from '../store/stats.js';
import { loadBoard, type BoardView, type Cursor } from './board-view.js';
import type { ColumnSort } from '../core/types.js';
import { markChange } from './timing.js';
import { BoardWatcher } from '../store/watch.js';
import { sqliteRef } from '../store/sqlite-board.js';

/** What the board reads: the columns around their cursors, the drawer's task, its log tail. */
export interface BoardQuery {
  statuses: readonly Status[];
  cursors: Partial<Record<Status, Cursor>>;
  filter: string;
  perColumn: number;
  drawer: string | null;
  sorts?: Partial<Record<Status, ColumnSort>>;
}

/** Everything the screen draws from the board, read at one moment: components never read the store. */
export interface Snapshot {
  board: BoardView;
  /** The drawer's task, or null (none open, or it is gone). */
  detail: TaskDetail | null;
  logTail: string[];
  findings: readonly Finding[];
  /** The most severe finding per task id, of those that need a person (not a wait on parents). */
  flags: ReadonlyMap<string, Severity>;
  /** Run statistics, read while the stats view is open (null otherwise). */
  stats: Stats | null;
}

const LOG_TAIL_LINES = 200;
const LOG_POLL_MS = 500;
const DIAGNOSE_EVERY_MS = 2000;
const DIAGNOSE_AFTER_CHANGE_MS = 250;

/**
 * The board as the screen sees it: reads the store for a query and keeps a snapshot, read again
 * when another process changes the file, when the dispatcher ticks, and when the query changes.
 * Diagnostics (tens of ms on a big board) and the log tail run on timers, never in a frame or a key.
 */
export class BoardModel {
  private query: BoardQuery;
  private current: Snapshot;
  private readonly listeners = new Set<() => void>();
  private watcher: BoardWatcher | null = null;
  private timers: NodeJS.Timeout[] = [];
  private diagnoseSoon: NodeJS.Timeout | undefined;
  /** A diagnosis is under way: the next round waits for it rather than overlapping it. */
  private diagnosing = false;
  private statsOpen = false;

  constructor(
    readonly store: Store,
    query: BoardQuery,
    private readonly diagnose?: () => Promise<Finding[]>,
  ) {
    this.query = query;
    this.current = { board: loadBoard(store, query), detail: null, logTail: [], findings: [], flags: new Map(), stats: null };
    this.current = { ...this.current, detail: this.readDetail() };
    this.pinCursors(this.current.board);
  }

  snapshot(): Snapshot {
    return this.current;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A new query (a key moved a cursor, opened the drawer, typed a filter): read at once. */
  setQuery(query: BoardQuery): void {
    const drawerChanged = query.drawer !== this.query.drawer;
    this.query = query;
    if (drawerChanged) this.current = { ...this.current, logTail: [] };
    this.reload();
    if (drawerChanged) this.readLog();
  }

  /** The board changed (our own write, a tick, another process): read it again. */
  reload(): void {
    const board = loadBoard(this.store, this.query);
    this.current = { ...this.current, board, detail: this.readDetail() };
    this.pinCursors(board);
    this.emit();
    this.scheduleDiagnose();
  }

  /** The stats view opened (read now, then every few seconds while open) or closed. */
  showStats(open: boolean): void {
    this.statsOpen = open;
    if (open) this.readStats();
    else if (this.current.stats !== null) {
      this.current = { ...this.current, stats: null };
      this.emit();
    }
  }

  private readStats(): void {
    if (!this.statsOpen) return;
    try {
      const now = this.store.clock.now();
      this.current = { ...this.current, stats: computeStats(readStatsFacts(this.store, statsWindow(now)), now) };
      this.emit();
    } catch {
      // a busy moment: the next round tries again
    }
  }

  /** How many cards a column's window holds in the query read last. */
  perColumn(): number {
    return this.query.perColumn;
  }

  /** Each column's cursor as last read: the card it is on (followed from now on) and its place. */
  cursors(): Partial<Record<Status, Cursor>> {
    return this.query.cursors;
  }

  /** A task's id and status, or null when there is none (`:` jumps, diagnostics' fix keys). */
  locate(id: string): { id: string; status: Status } | null {
    const task = getTaskRow(this.store, id);
    return task ? { id: task.id, status: task.status } : null;
  }

  /**
   * A cursor placed by position (id null) now names the card found there, and follows it from now
   * on. A column nobody has moved in has no cursor: it stays on its first card, whatever comes in.
   */
  private pinCursors(board: BoardView): void {
    const cursors = { ...this.query.cursors };
    for (const column of board.columns) {
      if (!cursors[column.status]) continue;
      const card = column.cards[column.index - column.offset];
      cursors[column.status] = { id: card?.id ?? null, index: column.index };
    }
    this.query = { ...this.query, cursors };
  }

  /** Watches the file, the log and diagnostics until `stop`. `watch: false` (component tests): no file watch. */
  start(watch: boolean): void {
    if (watch) {
      this.watcher = new BoardWatcher(
        this.store,
        () => {
          markChange();
          this.reload();
        },
        this.current.board.version,
      );
    }
    this.runDiagnose();
    this.timers.push(setInterval(() => this.runDiagnose(), DIAGNOSE_EVERY_MS));
    this.timers.push(setInterval(() => this.readStats(), DIAGNOSE_EVERY_MS));
    this.timers.push(setInterval(() => this.readLog(), LOG_POLL_MS));
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = null;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    clearTimeout(this.diagnoseSoon);
  }

  private readDetail(): TaskDetail | null {
    if (this.query.drawer === null) return null;
    try {
      return showTask(this.store, this.query.drawer);
    } catch {
      return null; // gone, or a busy moment: the drawer says so and closes
    }
  }

  private readLog(): void {
    if (this.query.drawer === null) return;
    const tail = readLogTail(taskLogPath(sqliteRef(this.store.path).dataDir, this.query.drawer), LOG_TAIL_LINES);
    const old = this.current.logTail;
    if (tail.length === old.length && tail.every((line, i) => line === old[i])) return;
    this.current = { ...this.current, logTail: tail };
    this.emit();
  }

  /** Soon after the board settles: a burst of changes is one run (the 2 s round covers a board that never settles). */
  private scheduleDiagnose(): void {
    if (!this.diagnose) return;
    clearTimeout(this.diagnoseSoon);
    this.diagnoseSoon = setTimeout(() => {
      this.diagnoseSoon = undefined;
      this.runDiagnose();
    }, DIAGNOSE_AFTER_CHANGE_MS);
  }

  private runDiagnose(): void {
    if (!this.diagnose || this.diagnosing) return;
    this.diagnosing = true;
    this.diagnose()
      .then((findings) => this.showFindings(findings))
      .catch(() => undefined) // a busy or broken moment: keep the last findings, try again on the next round
      .finally(() => (this.diagnosing = false));
  }

  private showFindings(findings: Finding[]): void {
    const flags = new Map<string, Severity>();
    for (const f of findings) if (needsPerson(f) && !flags.has(f.task_id)) flags.set(f.task_id, f.severity); // most severe first
    this.current = { ...this.current, findings, flags };
    this.emit();
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}
