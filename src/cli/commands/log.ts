import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { parseTaskId } from '../../ids.js';
import { cleanText } from '../../sanitize.js';
import { FINISHED_STATUSES, type Status } from '../../core/types.js';
import { LOG_LINE_MAX_BYTES, taskLogPath, utf8Cut } from '../../workers/runlog.js';
import { globalOptions, withBoard } from '../context.js';
import { untilInterrupted } from '../interrupt.js';
import type { BoardStore } from '../../port/board.js';

const FOLLOW_POLL_MS = 200;

export function registerLogCommand(program: Command): void {
  program
    .command('log')
    .description("the worker's output (every run), control sequences removed")
    .argument('<id>')
    .option('-f, --follow', 'keep printing as the worker writes, until interrupted or the task is finished or waits for a person')
    .action(async (rawId: string, opts: { follow?: boolean }, command: Command) => {
      const id = parseTaskId(rawId);
      const options = globalOptions(command);
      // SIGINT or SIGTERM stops a follow, and exits 0 until the board is closed (cli/interrupt.ts).
      await untilInterrupted(opts.follow === true, (interrupted) =>
        withBoard(options, async (board) => {
          const path = taskLogPath(board.ref.dataDir, (await board.tasks.get(id)).id);
          // Nothing more will be written once the task is finished or waits for a person: stop there.
          const stillGoing = async () => !STOPS_FOLLOWING.has((await board.tasks.get(id)).status);
          // A board other hosts share has every host's runs' output (the latest of each run); this
          // host's file, only the runs it ran. What the board has wins; the file is the fallback.
          if (board.shared && (opts.follow || (await board.logs.since(id, 0, 1)).length > 0)) {
            await printShipped(board, id, opts.follow ? { stillGoing, interrupted } : null);
            return;
          }
          if (!opts.follow) {
            if (existsSync(path)) new LogReader(path).drain(true);
            else process.stderr.write(`kanban: no output from ${id} yet\n`);
            return;
          }
          await follow(path, stillGoing, interrupted);
        }, 'read'),
      );
    });
}

/** Statuses after which no worker writes to the task's log until someone acts. */
const STOPS_FOLLOWING = new Set<Status>([...FINISHED_STATUSES, 'blocked', 'review', 'triage']);
/** The task's status is looked at every this many polls. */
const STATUS_EVERY_POLLS = 5;

/** Printed after the start of a line too long to print whole (a log kanban did not write, or an old one). */
export const LINE_CUT_MARKER = '…(line cut: longer than 64 KiB)';

/**
 * Reads a growing log from where it left off, in 64 KiB reads with at most one line of
 * LOG_LINE_MAX_BYTES held: never the whole file. Prints whole lines only, so an escape sequence cut in
 * two is still removed (and a character split between two reads is whole again); a longer line is
 * printed cut, with a marker, and the rest of it skipped.
 */
export class LogReader {
  private offset = 0;
  private readonly line = Buffer.allocUnsafe(LOG_LINE_MAX_BYTES);
  private length = 0;
  /** The line was printed cut: the rest of it, up to its newline, is skipped. */
  private skipping = false;

  constructor(
    private readonly path: string,
    private readonly write: (text: string) => void = (text) => process.stdout.write(text),
  ) {}

  drain(final = false): void {
    if (!existsSync(this.path)) return;
    const size = statSync(this.path).size;
    if (size < this.offset) this.restart(); // replaced or truncated: start again
    const fd = openSync(this.path, 'r');
    try {
      const buffer = Buffer.allocUnsafe(64 * 1024);
      for (;;) {
        const read = readSync(fd, buffer, 0, buffer.length, this.offset);
        if (read === 0) break;
        this.offset += read;
        this.take(buffer.subarray(0, read));
      }
    } finally {
      closeSync(fd);
    }
    if (final) this.end();
  }

  /** Bytes from elsewhere (a shared board's shipped log), through the same cleaning. */
  push(bytes: Buffer): void {
    this.take(bytes);
  }

  /** Prints the last line, if it did not end. */
  end(): void {
    if (this.length === 0) return;
    this.write(`${cleanText(this.line.toString('utf8', 0, this.length))}\n`);
    this.length = 0;
  }

  private restart(): void {
    this.offset = 0;
    this.length = 0;
    this.skipping = false;
  }

  /** Prints the lines `bytes` end, keeps the start of the next one. */
  private take(bytes: Buffer): void {
    const lines: string[] = [];
    let start = 0;
    while (start < bytes.length) {
      const newline = bytes.indexOf(0x0a, start);
      const end = newline < 0 ? bytes.length : newline;
      if (!this.skipping) {
        const room = this.line.length - this.length;
        if (end - start > room) {
          // Too long to print whole: its start, cut where no character is split, and the marker.
          bytes.copy(this.line, this.length, start, start + room);
          const cut = utf8Cut(this.line, this.line.length);
          lines.push(`${cleanText(this.line.toString('utf8', 0, cut))}${LINE_CUT_MARKER}`);
          this.length = 0;
          this.skipping = true;
        } else {
          bytes.copy(this.line, this.length, start, end);
          this.length += end - start;
        }
      }
      if (newline < 0) break;
      if (this.skipping) this.skipping = false;
      else lines.push(cleanText(this.line.toString('utf8', 0, this.length)));
      this.length = 0;
      start = newline + 1;
    }
    if (lines.length > 0) this.write(`${lines.join('\n')}\n`);
  }
}

function follow(path: string, stillGoing: () => Promise<boolean>, interrupted: AbortSignal): Promise<void> {
  const reader = new LogReader(path);
  reader.drain();
  return new Promise((resolve) => {
    let polls = 0;
    let looking = false;
    const timer = setInterval(() => {
      reader.drain();
      if (++polls % STATUS_EVERY_POLLS !== 0 || looking) return;
      looking = true;
      stillGoing()
        .then((going) => !going && stop())
        // the board could not be read this time: keep following, and look again
        .catch(() => undefined)
        .finally(() => (looking = false));
    }, FOLLOW_POLL_MS);
    let stopped = false;
    const stop = () => {
      if (stopped) return; // a signal and the status both said so
      stopped = true;
      clearInterval(timer);
      interrupted.removeEventListener('abort', stop);
      reader.drain(true);
      resolve();
    };
    if (interrupted.aborted) stop();
    else interrupted.addEventListener('abort', stop);
  });
}

/** How much shipped output one read takes. */
const SHIPPED_READ_BYTES = 1024 * 1024;
/** A shared board is a server: polled less often than a file. */
const SHIPPED_POLL_MS = 500;
/** Polls after the task stopped, for its supervisor's last lines (it ships them within a second or two). */
const FINAL_POLLS = 6;

/**
 * Prints a task's output as a shared board keeps it (every host's runs, the latest of each), then,
 * when following, what is shipped next until the task stops or a signal comes.
 */
async function printShipped(board: BoardStore, taskId: string, following: { stillGoing: () => Promise<boolean>; interrupted: AbortSignal } | null): Promise<void> {
  const reader = new LogReader('');
  let last = 0;
  const drain = async () => {
    for (;;) {
      const pieces = await board.logs.since(taskId, last, SHIPPED_READ_BYTES);
      for (const piece of pieces) reader.push(Buffer.from(piece.text));
      if (pieces.length === 0) return;
      last = pieces.at(-1)!.id;
    }
  };
  await drain();
  if (following) {
    for (let polls = 1; !following.interrupted.aborted; polls++) {
      await new Promise((resolve) => setTimeout(resolve, SHIPPED_POLL_MS));
      // The board could not be read this time: keep following, and look again.
      await drain().catch(() => undefined);
      if (polls % STATUS_EVERY_POLLS === 0 && !(await following.stillGoing().catch(() => true))) break;
    }
    // The task stopped: its supervisor ships its last lines (how the run ended) just after. A few
    // more polls take them, unless interrupted.
    for (let more = 0; more < FINAL_POLLS && !following.interrupted.aborted; more++) {
      await new Promise((resolve) => setTimeout(resolve, SHIPPED_POLL_MS));
      await drain().catch(() => undefined);
    }
  }
  reader.end();
}
