import { monotonicMs, type Clock } from '../clock.js';
import { needsPerson, type Finding, type Severity } from '../diagnostics/rules.js';
import { NotFound } from '../errors.js';
import type { BoardStore } from '../port/board.js';
import { BOARD_COLUMNS, type BoardView, type Cursor, type HostRow, type Status, type ViewQuery } from '../core/types.js';
import { readLogTail, taskLogPath } from '../workers/runlog.js';
import { computeStats, statsWindow, type Stats } from '../stats.js';
import { markChange } from './timing.js';
import type { TaskDetail } from '../port/types.js';

/** How much of a shared board's shipped output the drawer reads for its tail. */
const SHIPPED_TAIL_BYTES = 64 * 1024;

/** What the board reads: the columns around their cursors, the drawer's task, its log tail. */
export interface BoardQuery extends ViewQuery {
  drawer: string | null;
}

/** Everything the screen draws from the board, read at one moment: components never read the board. */
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
  /** The hosts that dispatch on a board other hosts share (none on a file board). */
  hosts: HostRow[];
}

const LOG_TAIL_LINES = 200;
const LOG_POLL_MS = 500;
const DIAGNOSE_EVERY_MS = 2000;
const DIAGNOSE_AFTER_CHANGE_MS = 250;
/**
 * A view read slower than this (a filter walking a board of a million tasks) holds the screen: the
 * read runs on this thread. Once one has (or on a board of LARGE_BOARD_TASKS), a filter being typed
 * is read when the typing pauses for FILTER_SETTLE_MS, not key by key; otherwise it stays live, key by key.
 */
const SLOW_READ_MS = 40;
const FILTER_SETTLE_MS = 200;
/** A filter walks every task: on a board this large its reads are slow from the first key (0.4–0.8 s at 1,000,000). */
const LARGE_BOARD_TASKS = 50_000;

/**
 * The board as the screen sees it: reads the board (through the port, in the background) for a
 * query and keeps a snapshot, read again when another process changes the board, when the
 * dispatcher ticks, and when the query changes. A read that ends after a newer one was asked for is
 * dropped. Diagnostics (tens of ms on a big board) and the log tail run on timers, never in a frame
 * or a key.
 */
export class BoardModel {
  private query: BoardQuery;
  private current: Snapshot;
  private readonly listeners = new Set<() => void>();
  private unwatch: (() => void) | null = null;
  private timers: NodeJS.Timeout[] = [];
  private diagnoseSoon: NodeJS.Timeout | undefined;
  /** A diagnosis is under way: the next round waits for it rather than overlapping it. */
  private diagnosing = false;
  private statsOpen = false;
  /** The read under way (or the last one); whether another was asked for meanwhile. */
  private reading: Promise<void> = Promise.resolve();
  private readPending: 'none' | 'reading' | 'again' = 'none';
  /** How long the last view read took (ms). */
  private lastReadMs = 0;
  /** The board's tasks, as the last read without a filter counted them (a filtered read counts only its matches). */
  private boardTasks: number;
  /** A filter read waiting for the typing to pause. */
  private settling: NodeJS.Timeout | undefined;

  /**
   * The model with its first snapshot read, what the first frame draws: the board's columns, as many
   * cards each as `perColumn` says fit with these counts (read first).
   */
  static async open(board: BoardStore, clock: Clock, options: { perColumn: (counts: Record<Status, number>) => number; diagnose?: () => Promise<Finding[]> }): Promise<BoardModel> {
    const perColumn = options.perColumn(await board.windows.counts());
    const query: BoardQuery = { statuses: BOARD_COLUMNS, cursors: {}, filter: '', perColumn, drawer: null };
    const view = await board.windows.view(query);
    return new BoardModel(board, clock, query, { board: view, detail: null, logTail: [], findings: [], flags: new Map(), stats: null, hosts: [] }, options.diagnose);
  }

  private constructor(
    readonly board: BoardStore,
    private readonly clock: Clock,
    query: BoardQuery,
    first: Snapshot,
    private readonly diagnose?: () => Promise<Finding[]>,
  ) {
    this.query = query;
    this.current = first;
    this.boardTasks = taskCount(first.board); // the first read has no filter
    this.pinCursors(first.board);
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
    const filterTyped = query.filter !== this.query.filter;
    this.query = query;
    if (drawerChanged) this.current = { ...this.current, logTail: [] };
    if (filterTyped && !drawerChanged && this.filterReadsSlow()) this.readWhenTypingPauses();
    else this.reload();
    if (drawerChanged) this.readLog();
  }

  /** Whether a filtered read holds the screen: the last read did, or the board is large enough that it will. */
  private filterReadsSlow(): boolean {
    return this.lastReadMs >= SLOW_READ_MS || this.boardTasks >= LARGE_BOARD_TASKS;
  }

  /** Reads the query as it is once no key has changed it for FILTER_SETTLE_MS (each key restarts the wait). */
  private readWhenTypingPauses(): void {
    clearTimeout(this.settling);
    this.settling = setTimeout(() => this.reload(), FILTER_SETTLE_MS);
  }

  /**
   * The board changed (our own write, a tick, another process): read it again, in the background.
   * A read that fails (a busy moment) keeps the snapshot on screen; the next change reads again.
   */
  reload(): void {
    clearTimeout(this.settling); // this read is of the latest query: none need wait for the typing to pause
    this.settling = undefined;
    this.startRead();
  }

  private startRead(): void {
    // One read at a time: asked for while one is under way (a filter typed a key at a time on a large
    // board, where each read walks it), one more read, of the query as it is then, follows it.
    if (this.readPending !== 'none') {
      this.readPending = 'again';
      return;
    }
    this.readPending = 'reading';
    const query = this.query;
    const started = monotonicMs();
    this.reading = Promise.all([this.board.windows.view(query), readDetail(this.board, query.drawer)])
      .then(
        ([board, detail]) => {
          this.lastReadMs = monotonicMs() - started;
          if (query.filter === '') this.boardTasks = taskCount(board);
          this.current = { ...this.current, board, detail };
          this.pinCursors(board);
          this.emit();
          this.scheduleDiagnose();
        },
        () => undefined,
      )
      .finally(() => {
        const again = this.readPending === 'again';
        this.readPending = 'none';
        if (again) this.startRead();
      });
  }

  /** Resolves once the latest read asked for has landed (the snapshot is what the query says). */
  async idle(): Promise<void> {
    let waited: Promise<void>;
    do {
      if (this.settling) this.reload(); // whoever waits wants the board as the query says now, not once the typing pauses
      waited = this.reading;
      await waited;
    } while (waited !== this.reading || this.settling);
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
    const now = this.clock.now();
    this.board.facts.stats(statsWindow(now)).then(
      (facts) => {
        if (!this.statsOpen) return;
        this.current = { ...this.current, stats: computeStats(facts, now) };
        this.emit();
      },
      () => undefined, // a busy moment: the next round tries again
    );
  }

  private readHosts(): void {
    this.board.hosts.list().then(
      (hosts) => {
        const old = this.current.hosts;
        if (hosts.length === old.length && hosts.every((h, i) => h.id === old[i]!.id && h.last_seen_at === old[i]!.last_seen_at)) return;
        this.current = { ...this.current, hosts };
        this.emit();
      },
      () => undefined, // a busy moment: the next round tries again
    );
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
  async locate(id: string): Promise<{ id: string; status: Status } | null> {
    try {
      const task = await this.board.tasks.get(id);
      return { id: task.id, status: task.status };
    } catch (err) {
      if (err instanceof NotFound) return null;
      throw err;
    }
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

  /** Watches the board, the log and diagnostics until `stop`. `watch: false` (component tests): no watch. */
  start(watch: boolean): void {
    if (watch) {
      this.unwatch = this.board.watch(() => {
        markChange();
        this.reload();
      });
      this.reload(); // what changed between the first read and the watch
    }
    this.runDiagnose();
    this.timers.push(setInterval(() => this.runDiagnose(), DIAGNOSE_EVERY_MS));
    this.timers.push(setInterval(() => this.readStats(), DIAGNOSE_EVERY_MS));
    if (this.board.shared) {
      this.readHosts();
      this.timers.push(setInterval(() => this.readHosts(), DIAGNOSE_EVERY_MS));
    }
    this.timers.push(setInterval(() => this.readLog(), LOG_POLL_MS));
  }

  stop(): void {
    this.unwatch?.();
    this.unwatch = null;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    clearTimeout(this.settling);
    this.settling = undefined;
    clearTimeout(this.diagnoseSoon);
  }

  private readLog(): void {
    const taskId = this.query.drawer;
    if (taskId === null) return;
    // A board other hosts share keeps every host's runs' output (the latest of each): read it there,
    // in the background; this host's file has only the runs it ran.
    if (this.board.shared) {
      void this.board.logs.tail(taskId, SHIPPED_TAIL_BYTES).then(
        (pieces) => {
          if (this.query.drawer !== taskId) return;
          const lines = pieces.map((p) => p.text).join('').split('\n');
          if (lines.at(-1) === '') lines.pop();
          this.showLog(pieces.length > 0 ? lines.slice(-LOG_TAIL_LINES) : readLogTail(taskLogPath(this.board.ref.dataDir, taskId), LOG_TAIL_LINES));
        },
        () => undefined, // not readable this time: the next poll tries again
      );
      return;
    }
    this.showLog(readLogTail(taskLogPath(this.board.ref.dataDir, taskId), LOG_TAIL_LINES));
  }

  private showLog(tail: string[]): void {
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

/** The drawer's task, or null (none open, or it is gone, or a busy moment: the drawer says so and closes). */
function readDetail(board: BoardStore, drawer: string | null): Promise<TaskDetail | null> {
  return drawer === null ? Promise.resolve(null) : board.tasks.show(drawer).catch(() => null);
}

/** Every task a view counted, in every status. */
function taskCount(view: BoardView): number {
  return Object.values(view.counts).reduce((sum, count) => sum + count, 0);
}
