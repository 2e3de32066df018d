import type { FSWatcher } from 'chokidar';
import { dataVersion } from './board.js';
import type { Store } from './db.js';

/** A file event is checked this long after it arrives, so a burst of writes is one refresh. */
const SETTLE_MS = 15;
/** In case a file event is missed (some file systems): data_version is also read this often. */
const POLL_MS = 1000;
/**
 * A file event whose check found nothing new may herald a commit still on its way (the WAL written,
 * its fsync slow under load): looked at again this long after it, before the poll would.
 */
const LATE_CHECKS_MS = [60, 250];

/**
 * Tells when another process changed the board: chokidar on the board file and its -wal, each event
 * confirmed with PRAGMA data_version so that events which changed nothing (a reader's checkpoint,
 * our own writes) cost a pragma and no redraw. chokidar is loaded when the first watch starts, so
 * commands that never watch do not pay for it; until it is watching, the poll stands in.
 */
export class BoardWatcher {
  private watcher: FSWatcher | null = null;
  private closed = false;
  private readonly poll: NodeJS.Timeout;
  private pending: NodeJS.Timeout | undefined;
  private late: NodeJS.Timeout[] = [];
  private version: number;

  /** `since`: the data_version of what is on screen; a change made before the watch began is caught at once. */
  constructor(
    private readonly store: Store,
    private readonly onChange: () => void,
    since: number,
  ) {
    this.version = since;
    void this.watchFiles();
    this.poll = setInterval(() => this.check(), POLL_MS);
    this.poll.unref();
    this.check();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.poll);
    clearTimeout(this.pending);
    for (const timer of this.late) clearTimeout(timer);
    void this.watcher?.close();
  }

  private async watchFiles(): Promise<void> {
    const { watch } = await import('chokidar');
    if (this.closed) return;
    this.watcher = watch([this.store.path, `${this.store.path}-wal`], { ignoreInitial: true, persistent: false });
    this.watcher.on('all', () => this.soon());
    this.check(); // what changed while chokidar was loading
  }

  private soon(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      if (this.check()) return;
      for (const timer of this.late) clearTimeout(timer);
      this.late = LATE_CHECKS_MS.map((ms) => setTimeout(() => this.check(), ms - SETTLE_MS));
    }, SETTLE_MS);
  }

  /** Whether the board changed since the last look (and if so, says so). */
  private check(): boolean {
    let version: number;
    try {
      version = dataVersion(this.store);
    } catch {
      return false; // locked or closing: the next event or poll tries again
    }
    if (version === this.version) return false;
    this.version = version;
    this.onChange();
    return true;
  }
}
