import { closeSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { errorMessage } from '../errors.js';
import { isTaskId } from '../ids.js';

const LOG_EXTENSION = '.log';

/** `<data dir>/logs` (the board's BoardRef.dataDir): the tasks' log files. */
export function logsDir(dataDir: string): string {
  return join(dataDir, 'logs');
}

/** `<data dir>/logs/<task id>.log`: every run's output, appended, one timestamped line at a time. */
export function taskLogPath(dataDir: string, taskId: string): string {
  return join(logsDir(dataDir), `${taskId}${LOG_EXTENSION}`);
}

/** The task whose log a file in logsDir is, by its name (null: not a task's log). */
export function taskOfLogFile(name: string): string | null {
  const id = name.endsWith(LOG_EXTENSION) ? name.slice(0, -LOG_EXTENSION.length) : '';
  return isTaskId(id) ? id : null;
}

/** `<data dir>/prompts/<task>-r<run>.md`: the prompt a run was handed, owner-only, removed when the run ends. */
export function promptFilePath(dataDir: string, run: { taskId: string; runId: number }): string {
  return join(dataDir, 'prompts', `${run.taskId}-r${run.runId}.md`);
}

export function openTaskLog(dataDir: string, taskId: string): number {
  const path = taskLogPath(dataDir, taskId);
  mkdirSync(dirname(path), { recursive: true });
  return openSync(path, 'a');
}

/**
 * No line a RunLog writes is longer than this (its newline aside), time and stream included: a
 * longer line of output is written in pieces. `kanban log` cuts only lines longer than this.
 */
export const LOG_LINE_MAX_BYTES = 64 * 1024;
/** Room kept in each line for `<time> [r<run> <stream>] ` and the continuation marker. */
const LINE_OVERHEAD_BYTES = 256;
/** The most of one line of output a log line holds: the partial line kept never grows beyond it. */
export const LOG_TEXT_MAX_BYTES = LOG_LINE_MAX_BYTES - LINE_OVERHEAD_BYTES;
/** Starts each piece of a long line after the first. */
export const CONTINUED_MARKER = '…(continued) ';
/** A run's worker output is cut off past this many bytes (config `log_max_bytes`). */
export const DEFAULT_LOG_MAX_BYTES = 50 * 1024 * 1024;
/** After a write fails, writes are dropped (and counted) for this long before one is tried again. */
export const DEFAULT_LOG_RETRY_MS = 5000;

/** Why the log could not be written (the first failure of the run). */
export interface LogFault {
  code: string;
  message: string;
}

export interface RunLogOptions {
  /** Bytes of worker output (whole log lines) this run may write; the rest is dropped, once marked. */
  maxBytes?: number;
  /** How long writes are dropped after a failure before one is tried again. */
  retryMs?: number;
  /** Opens the log again when it could not be opened before (RunLog.open sets it). */
  reopen?: () => number;
  /** The clock for how often a line redrawn with carriage returns is written (tests). */
  now?: () => number;
  /** Also given every line written (a shared board's supervisor ships them to the board: log-shipper.ts), even while the file cannot be written. */
  ship?: (bytes: Buffer) => void;
}

/** A line a worker redraws with carriage returns (a progress bar) is written at most this often. */
export const PROGRESS_EVERY_MS = 1000;

/**
 * Where to cut the first `length` bytes so that no UTF-8 character is split: `length`, or the start
 * of a character that begins before it and ends after it. Bytes that are not UTF-8 are cut anywhere.
 */
export function utf8Cut(bytes: Uint8Array, length: number): number {
  for (let i = length - 1; i >= 0 && i >= length - 4; i--) {
    const byte = bytes[i]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: its character started before
    const size = byte < 0xc0 ? 1 : byte < 0xe0 ? 2 : byte < 0xf0 ? 3 : 4;
    return i + size > length && i > 0 ? i : length;
  }
  return length;
}

/** Per stream: the start of a line not yet ended, at most LOG_TEXT_MAX_BYTES, in a buffer allocated once. */
class PartialLine {
  readonly bytes = Buffer.allocUnsafe(LOG_TEXT_MAX_BYTES);
  length = 0;
  /** The line already had pieces written: the next piece carries the marker. */
  continued = false;
  /** The line is redrawn with carriage returns: only its latest state is kept. */
  redrawn = false;
  /** When its latest state was last written (redrawn lines only). */
  shownAt = -Infinity;
  /** Its latest state was written and nothing came since: its end writes no empty line. */
  shown = false;
}

/**
 * Writes lines as `<ISO time> [r<run> <stream>] <text>`, keeping a partial line until it ends.
 *
 * Bounded and never fatal: a line longer than LOG_TEXT_MAX_BYTES is written in pieces (so the partial
 * line kept is bounded and the work linear in the output); the worker's output past `maxBytes` is
 * dropped after one marker line; and a write that fails (a full or read-only disk) never throws: the
 * first failure is kept in `fault`, writes are dropped and counted while failing, one is tried again
 * every `retryMs`, and once one works a line says how many bytes were lost.
 */
export class RunLog {
  private fd: number | null;
  private readonly partial = new Map<string, PartialLine>();
  private readonly retryMs: number;
  private readonly reopen: (() => number) | undefined;
  private readonly now: () => number;
  private maxBytesValue: number;
  private workerBytes = 0;
  private truncated = false;
  private droppedBytes = 0;
  private firstFault: LogFault | null = null;
  private failing: LogFault | null = null;
  private retryAt = 0;
  private lost = 0;
  /** A write stopped partway through a line: the next one starts on a new line. */
  private midLine = false;
  private closed = false;
  private readonly ship: ((bytes: Buffer) => void) | undefined;

  constructor(fd: number | null, private readonly runId: number, options: RunLogOptions = {}) {
    this.fd = fd;
    this.ship = options.ship;
    this.maxBytesValue = positive(options.maxBytes ?? DEFAULT_LOG_MAX_BYTES);
    this.retryMs = Math.max(0, options.retryMs ?? DEFAULT_LOG_RETRY_MS);
    this.reopen = options.reopen;
    this.now = options.now ?? Date.now;
  }

  /**
   * The log of one run of a task, never throwing: a log that cannot be opened (a read-only or full
   * disk, no permission) makes a RunLog that starts failed (its `fault` says why) and tries to open
   * it again as it would retry a write.
   */
  static open(dataDir: string, taskId: string, runId: number, options: Omit<RunLogOptions, 'reopen'> = {}): RunLog {
    const reopen = () => openTaskLog(dataDir, taskId);
    let fd: number | null = null;
    let fault: LogFault | null = null;
    try {
      fd = reopen();
    } catch (err) {
      fault = faultOf(err);
    }
    const log = new RunLog(fd, runId, { ...options, reopen });
    if (fault) log.fail(fault);
    return log;
  }

  /** The first failure to write (or open) the log in this run, or null. */
  get fault(): LogFault | null {
    return this.firstFault;
  }

  /** Writes are failing now (dropped until one works again). */
  get isFailing(): boolean {
    return this.failing !== null;
  }

  /** Bytes meant for the log that were lost to failed writes and not yet reported in it. */
  get lostBytes(): number {
    return this.lost;
  }

  /** Worker output dropped past `maxBytes`. */
  get truncatedBytes(): number {
    return this.droppedBytes;
  }

  /** The bytes of partial lines held, for every stream (never more than LOG_TEXT_MAX_BYTES each). */
  get partialBytes(): number {
    let total = 0;
    for (const partial of this.partial.values()) total += partial.length;
    return total;
  }

  get maxBytes(): number {
    return this.maxBytesValue;
  }

  /** The cap on this run's worker output (known once the config has been read). */
  set maxBytes(bytes: number) {
    this.maxBytesValue = positive(bytes);
  }

  /** One of kanban's own lines: never cut off by `maxBytes`, written in pieces if it is very long. */
  line(stream: string, text: string): void {
    const bytes = Buffer.from(text);
    let offset = 0;
    do {
      const rest = bytes.subarray(offset);
      const count = rest.length <= LOG_TEXT_MAX_BYTES ? rest.length : utf8Cut(rest, LOG_TEXT_MAX_BYTES);
      this.writeLine(stream, rest.subarray(0, count), offset > 0, false);
      offset += count;
    } while (offset < bytes.length);
  }

  /** Output from the worker: complete lines now, the rest when it ends (or in pieces, if it grows too long). */
  chunk(stream: string, data: Buffer | string): void {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    let partial = this.partial.get(stream);
    if (!partial) this.partial.set(stream, (partial = new PartialLine()));
    let start = 0;
    while (start < bytes.length && !this.truncated) {
      const newline = bytes.indexOf(0x0a, start);
      const end = newline < 0 ? bytes.length : newline;
      this.appendRedrawn(stream, partial, bytes.subarray(start, end), newline >= 0);
      start = end;
      if (this.truncated) break;
      if (newline < 0) {
        this.showProgress(stream, partial);
        break;
      }
      if (!(partial.shown && partial.length === 0)) this.emit(stream, partial, partial.length);
      Object.assign(partial, { continued: false, redrawn: false, shown: false });
      start = newline + 1;
    }
    if (this.truncated) this.droppedBytes += bytes.length - start;
  }

  /**
   * Adds a piece of a line, as a terminal would show it: after a carriage return (a progress bar
   * redrawing itself) what follows replaces the line, so only its latest state is kept. A carriage
   * return just before the newline (CRLF) is an ordinary line end.
   */
  private appendRedrawn(stream: string, partial: PartialLine, bytes: Buffer, endsLine: boolean): void {
    const body = endsLine && bytes.at(-1) === 0x0d ? bytes.subarray(0, -1) : bytes;
    const cr = body.lastIndexOf(0x0d);
    if (cr < 0) return this.append(stream, partial, body);
    partial.length = 0;
    partial.redrawn = true;
    this.append(stream, partial, body.subarray(cr + 1));
    if (partial.length > 0) partial.shown = false;
  }

  /** A line being redrawn shows its latest state in the log, at most once a PROGRESS_EVERY_MS. */
  private showProgress(stream: string, partial: PartialLine): void {
    if (!partial.redrawn || partial.length === 0) return;
    partial.shown = false;
    const now = this.now();
    if (now - partial.shownAt < PROGRESS_EVERY_MS) return;
    partial.shownAt = now;
    this.emit(stream, partial, partial.length);
    partial.shown = true;
  }

  /** Writes every partial line as it is. */
  flush(): void {
    for (const [stream, partial] of this.partial) {
      if (partial.length > 0) this.emit(stream, partial, partial.length);
    }
    this.partial.clear();
  }

  /** Flushes, says what was lost if the log can be written again now, and closes the file. Never throws. */
  close(): void {
    this.flush();
    if (this.lost > 0) {
      this.retryAt = 0; // a last try, whatever the interval
      this.write(EMPTY);
    }
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        // already closed: nothing left to lose
      }
      this.fd = null;
    }
    this.closed = true;
  }

  /** Adds bytes (no newline among them) to a partial line; a full one is written as a piece first. */
  private append(stream: string, partial: PartialLine, bytes: Buffer): void {
    let offset = 0;
    while (offset < bytes.length) {
      if (partial.length === partial.bytes.length) {
        // Full, and the line goes on: write a piece cut where no character is split, keep the rest.
        this.emit(stream, partial, utf8Cut(partial.bytes, partial.length));
        partial.continued = true;
        if (this.truncated) return;
      }
      const take = Math.min(partial.bytes.length - partial.length, bytes.length - offset);
      bytes.copy(partial.bytes, partial.length, offset, offset + take);
      partial.length += take;
      offset += take;
    }
  }

  /** Writes the first `count` bytes of a partial line as one line and keeps what follows them. */
  private emit(stream: string, partial: PartialLine, count: number): void {
    this.writeLine(stream, partial.bytes.subarray(0, count), partial.continued, true);
    if (this.truncated) return; // the partial lines were dropped with the rest
    partial.bytes.copy(partial.bytes, 0, count, partial.length);
    partial.length -= count;
  }

  private writeLine(stream: string, text: Buffer, continued: boolean, worker: boolean): void {
    if (worker && this.truncated) {
      this.droppedBytes += text.length;
      return;
    }
    const line = Buffer.concat([Buffer.from(`${new Date().toISOString()} [r${this.runId} ${stream}] ${continued ? CONTINUED_MARKER : ''}`), text, NEWLINE]);
    if (worker) {
      if (this.workerBytes + line.length > this.maxBytesValue) {
        this.truncated = true;
        this.droppedBytes += text.length;
        for (const partial of this.partial.values()) {
          this.droppedBytes += partial.length;
          partial.length = 0;
        }
        this.write(this.kanbanLine(`output truncated: this run wrote more than ${this.maxBytesValue} bytes (log_max_bytes); the rest is dropped`));
        return;
      }
      this.workerBytes += line.length;
    }
    this.write(line);
  }

  private kanbanLine(text: string): Buffer {
    return Buffer.from(`${new Date().toISOString()} [r${this.runId} kanban] ${text}\n`);
  }

  /**
   * Writes bytes at the end of the log. While failing, drops them (counted) until the retry time;
   * then first writes the line that says how much was lost, and only if that works, these bytes.
   */
  private write(bytes: Buffer): void {
    if (this.closed) return;
    if (bytes.length > 0) this.ship?.(bytes);
    if (this.failing !== null) {
      if (Date.now() < this.retryAt) {
        this.lost += bytes.length;
        return;
      }
      const notice = Buffer.concat([
        this.midLine ? NEWLINE : EMPTY, // a write that stopped partway left a line unended
        this.lost > 0 ? this.kanbanLine(`${this.lost} bytes of output were lost: ${this.failing.code}`) : EMPTY,
      ]);
      if (this.writeAll(notice) < notice.length) {
        this.lost += bytes.length;
        return;
      }
      this.failing = null;
      this.midLine = false;
      this.lost = 0;
    }
    if (bytes.length === 0) return;
    const written = this.writeAll(bytes);
    if (written < bytes.length) this.lost += bytes.length - written;
  }

  /** Writes all of `bytes` (opening the log first if it is not open); on failure records it. Returns the bytes written. */
  private writeAll(bytes: Buffer): number {
    let written = 0;
    try {
      if (this.fd === null) {
        if (!this.reopen) throw Object.assign(new Error('the log is not open'), { code: 'EBADF' });
        this.fd = this.reopen();
      }
      while (written < bytes.length) written += writeSync(this.fd, bytes, written, bytes.length - written);
    } catch (err) {
      if (written > 0) this.midLine = true;
      this.fail(faultOf(err));
    }
    return written;
  }

  private fail(fault: LogFault): void {
    this.firstFault ??= fault;
    this.failing = fault;
    this.retryAt = Date.now() + this.retryMs;
  }
}

const NEWLINE = Buffer.from('\n');
const EMPTY = Buffer.alloc(0);

function faultOf(err: unknown): LogFault {
  const code = (err as { code?: unknown })?.code;
  return { code: typeof code === 'string' ? code : 'EIO', message: errorMessage(err) };
}

/** A cap of at least one byte; anything else (settings never give it) is the default, since RunLog never throws. */
function positive(bytes: number): number {
  return Number.isFinite(bytes) && bytes >= 1 ? Math.floor(bytes) : DEFAULT_LOG_MAX_BYTES;
}

/** The last `count` lines of a task's log (from its last 64 KiB), or none when it has no log. */
export function readLogTail(path: string, count: number): string[] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return [];
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split('\n');
    if (length < size) lines.shift(); // the first line is cut
    if (lines.at(-1) === '') lines.pop();
    return lines.slice(-count);
  } finally {
    closeSync(fd);
  }
}
