import { fstatSync } from 'node:fs';
import { cleanLine, cleanText } from '../sanitize.js';
import { formatSpan, formatTimestamp, formatWhen } from '../time.js';
import { otherHost } from '../host.js';
import { formatEventLine } from './event-text.js';
import { writeAllSync, writeOut } from './stdio.js';
import type { Task } from '../core/types.js';
import { leaseExpired } from '../core/health.js';
import type { TaskDetail } from '../port/types.js';

export function writeLine(text = ''): void {
  if (steady) steady.out.write(`${text}\n`);
  else writeOut(`${text}\n`);
}

/** What a stream lost while it could not be written. */
export interface DroppedOutput {
  writes: number;
  bytes: number;
  /** The error of the first write dropped (EPIPE, ENOSPC, EIO, EBADF, …), or null. */
  code: string | null;
}

/**
 * stdout or stderr for a process that must go on whatever happens to them (the headless
 * dispatcher): a write that fails (EPIPE, ENOSPC, EIO, EBADF, …) is dropped and counted, never
 * thrown or left to kill the process. A regular file is written directly, so that once the disk has
 * room again the writes work again, after a line (on stderr) saying how many were dropped; a pipe
 * or a terminal goes through Node's stream, whose errors are caught (a pipe whose reader is gone
 * stays gone: everything after is dropped).
 */
export class SteadyOutput {
  readonly dropped: DroppedOutput = { writes: 0, bytes: 0, code: null };
  /** Drops not yet reported (reset once a write works again and the report is made). */
  private unreported: DroppedOutput = { writes: 0, bytes: 0, code: null };
  private readonly file: boolean;
  /** A write to the file stopped partway through a line: the next one starts a new line. */
  private midLine = false;

  constructor(
    private readonly fd: number,
    private readonly stream: NodeJS.WriteStream,
    readonly name: string,
    /** Says how much was dropped, once writes work again; by default on this stream itself. */
    private readonly report: (line: string) => void = (line) => this.write(line),
  ) {
    this.file = isRegularFile(fd);
    // Replaces the handler of one-shot commands (run.ts: exit on EPIPE, throw the rest), which would stop us.
    stream.removeAllListeners('error');
    stream.on('error', () => {}); // every failed write's callback counts it
  }

  write(text: string): void {
    const bytes = Buffer.from(text);
    if (this.file) this.writeFile(bytes);
    else this.writeStream(bytes);
  }

  private writeFile(bytes: Buffer): void {
    const lead = this.midLine ? Buffer.from('\n') : Buffer.alloc(0);
    const all = lead.length > 0 ? Buffer.concat([lead, bytes]) : bytes;
    const { written, error } = writeAllSync(this.fd, all);
    if (error !== undefined) {
      if (written > 0) this.midLine = true;
      this.drop(error, all.length - written);
      return;
    }
    this.midLine = false;
    this.recovered();
  }

  private writeStream(bytes: Buffer): void {
    if (this.stream.destroyed || !this.stream.writable) {
      this.drop({ code: this.dropped.code ?? 'EPIPE' }, bytes.length);
      return;
    }
    if (this.stream.writableLength > MAX_PENDING_BYTES) {
      this.drop({ code: 'EAGAIN' }, bytes.length); // its reader has stopped reading: not kept in memory
      return;
    }
    try {
      this.stream.write(bytes, (err) => {
        if (err) this.drop(err, bytes.length);
        else this.recovered();
      });
    } catch (err) {
      this.drop(err, bytes.length);
    }
  }

  private drop(err: unknown, bytes: number): void {
    const raw = (err as { code?: unknown })?.code;
    const code = typeof raw === 'string' ? raw : 'EIO';
    for (const count of [this.dropped, this.unreported]) {
      count.writes++;
      count.bytes += bytes;
      count.code ??= code;
    }
  }

  private recovered(): void {
    if (this.unreported.writes === 0) return;
    const { writes, bytes, code } = this.unreported;
    this.unreported = { writes: 0, bytes: 0, code: null };
    this.report(`kanban: ${writes} ${writes === 1 ? 'write' : 'writes'} to ${this.name} (${bytes} bytes) could not be made (${code}) and were dropped\n`);
  }
}

/** What a stream may hold that its reader has not taken yet, before more is dropped. */
const MAX_PENDING_BYTES = 1024 * 1024;

function isRegularFile(fd: number): boolean {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
}

let steady: { out: SteadyOutput; err: SteadyOutput } | null = null;

/**
 * From now on, this process's output never stops it: `writeLine` and the returned streams drop
 * (and count) what cannot be written. For `kanban tui --no-ui`, whose dispatching must go on with
 * its stdout on a full disk or its reader gone; one-shot commands keep exiting quietly on EPIPE.
 */
export function steadyOutput(): { out: SteadyOutput; err: SteadyOutput } {
  if (!steady) {
    const err = new SteadyOutput(2, process.stderr, 'stderr');
    const out = new SteadyOutput(1, process.stdout, 'stdout', (line) => err.write(line));
    steady = { out, err };
  }
  return steady;
}

/** Bytes that are already output (JSON built by SQLite), then a newline. */
export function writeBytes(bytes: Buffer): void {
  writeOut(bytes);
  writeOut('\n');
}

export function writeJson(value: unknown): void {
  writeLine(JSON.stringify(value, null, 2));
}

export { formatTimestamp, formatWhen };

/** One line for a task after a mutation: `unblocked t_1a2b3c4d  ready  Fix the login bug`. */
export function formatTaskLine(task: Task, verb: string): string {
  return `${verb} ${task.id}  ${task.status}  ${cleanLine(task.title)}`;
}

/** Prints the task a mutation produced: JSON, or one human line. */
export function printTask(task: Task, verb: string, json: boolean): void {
  if (json) writeJson(task);
  else writeLine(formatTaskLine(task, verb));
}

export function printTaskTable(tasks: readonly Task[]): void {
  if (tasks.length === 0) {
    writeLine('no tasks');
    return;
  }
  const rows = tasks.map((t) => [t.id, t.status, String(t.priority), t.assignee ? cleanLine(t.assignee) : '—', cleanLine(t.title)]);
  const header = ['ID', 'STATUS', 'PRI', 'ASSIGNEE', 'TITLE'];
  const widths = header.slice(0, 4).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const maxWidth = process.stdout.isTTY ? process.stdout.columns : Infinity;
  const format = (cells: string[]) => {
    const line = cells.slice(0, 4).map((c, i) => (i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ') + '  ' + cells[4];
    return line.length > maxWidth ? `${line.slice(0, maxWidth - 1)}…` : line;
  };
  writeLine(format(header));
  for (const row of rows) writeLine(format(row));
}

function field(label: string, value: string): string {
  return `${label.padEnd(11)}${value}`;
}

export function printTaskDetail(detail: TaskDetail, now: number): void {
  const { task, runs, events, comments } = detail;
  writeLine(`${task.id}  ${cleanLine(task.title)}`);
  writeLine(field('status', `${task.status}${task.status_reason ? ` — ${cleanLine(task.status_reason)}` : ''}`));
  writeLine(field('priority', String(task.priority)));
  writeLine(field('assignee', task.assignee ? cleanLine(task.assignee) : '—'));
  writeLine(field('parents', task.parents.join(', ') || '—'));
  writeLine(field('children', task.children.join(', ') || '—'));
  writeLine(field('failures', `${task.consecutive_failures}${task.max_retries !== null ? ` (limit ${task.max_retries})` : ''}`));
  if (task.scheduled_until !== null) writeLine(field('due', formatWhen(task.scheduled_until, now)));
  if (task.claim_lock !== null) {
    writeLine(field('claim', `${cleanLine(task.claim_lock)} run ${task.current_run_id ?? '—'} pid ${task.worker_pid ?? '—'}`));
    if (task.claim_expires !== null) writeLine(field('lease', `${leaseExpired(task.claim_expires, now) ? 'expired' : 'ends'} ${formatWhen(task.claim_expires, now)}`));
  }
  writeLine(field('workspace', `${task.workspace_kind}${task.workspace_path ? ` ${cleanLine(task.workspace_path)}` : ''}`));
  writeLine(field('created', formatWhen(task.created_at, now)));
  writeLine(field('updated', formatWhen(task.updated_at, now)));
  if (task.completed_at !== null) writeLine(field('completed', formatWhen(task.completed_at, now)));
  if (task.summary) writeLine(field('summary', cleanLine(task.summary)));
  if (task.body) {
    writeLine();
    writeLine(cleanText(task.body));
  }
  if (runs.length > 0) {
    writeLine();
    writeLine(`runs (${runs.length})`);
    for (const run of runs) {
      const took = run.ended_at !== null ? formatSpan(run.ended_at - run.started_at) : 'running';
      const exit = run.exit_code !== null ? ` exit ${run.exit_code}` : '';
      writeLine(`  #${run.id}  ${run.outcome ?? run.status}${exit}  ${formatWhen(run.started_at, now)}  ${took}${otherHost(run.claim_lock) ? `  on ${cleanLine(otherHost(run.claim_lock)!)}` : ''}${run.error ? `  ${cleanLine(run.error)}` : ''}`);
    }
  }
  if (comments.length > 0) {
    writeLine();
    writeLine(`comments (${comments.length})`);
    for (const c of comments) writeLine(`  ${formatWhen(c.created_at, now)}  ${cleanLine(c.author)}: ${cleanLine(c.body)}`);
  }
  const recent = events.slice(-20);
  writeLine();
  writeLine(`events (${recent.length < events.length ? `last ${recent.length} of ${events.length}` : events.length})`);
  for (const e of recent) writeLine(`  ${formatEventLine(e, now, false)}`);
}

/**
 * A small table: a header, then rows of cells already cleaned for the terminal, columns two spaces
 * apart. Columns marked in `right` are aligned right (numbers); the last column is not padded.
 */
export function printTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>, right: readonly number[] = []): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const format = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 && !right.includes(i) ? cell : right.includes(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ');
  writeLine(format(header));
  for (const row of rows) writeLine(format(row));
}

/** A size as people read it: `812 B`, `4.0 KiB`, `12.5 MiB`, `1.2 GiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}
