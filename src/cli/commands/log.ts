import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { parseTaskId } from '../../ids.js';
import { cleanText } from '../../sanitize.js';
import { requireTaskRow } from '../../store/rows.js';
import { taskLogPath } from '../../workers/runlog.js';
import { globalOptions, withStore } from '../context.js';

const FOLLOW_POLL_MS = 200;

export function registerLogCommand(program: Command): void {
  program
    .command('log')
    .description("the worker's output (every run), control sequences removed")
    .argument('<id>')
    .option('-f, --follow', 'keep printing as the worker writes, until interrupted')
    .action(async (rawId: string, opts: { follow?: boolean }, command: Command) => {
      const id = parseTaskId(rawId);
      const path = withStore(globalOptions(command), (store) => taskLogPath(store.path, requireTaskRow(store, id).id), 'read');
      if (!opts.follow) {
        if (existsSync(path)) new LogReader(path).drain(true);
        else process.stderr.write(`kanban: no output from ${id} yet\n`);
        return;
      }
      await follow(path);
    });
}

/** Reads a growing log from where it left off; prints whole lines only, so an escape sequence cut in two is still removed. */
class LogReader {
  private offset = 0;
  private partial = '';

  constructor(private readonly path: string) {}

  drain(final = false): void {
    if (!existsSync(this.path)) return;
    const size = statSync(this.path).size;
    if (size < this.offset) this.offset = 0; // replaced or truncated: start again
    const fd = openSync(this.path, 'r');
    try {
      const buffer = Buffer.alloc(64 * 1024);
      for (;;) {
        const read = readSync(fd, buffer, 0, buffer.length, this.offset);
        if (read === 0) break;
        this.offset += read;
        const lines = (this.partial + buffer.subarray(0, read).toString('utf8')).split('\n');
        this.partial = lines.pop()!;
        if (lines.length > 0) process.stdout.write(`${lines.map(cleanText).join('\n')}\n`);
      }
    } finally {
      closeSync(fd);
    }
    if (final && this.partial !== '') {
      process.stdout.write(`${cleanText(this.partial)}\n`);
      this.partial = '';
    }
  }
}

function follow(path: string): Promise<void> {
  const reader = new LogReader(path);
  reader.drain();
  return new Promise((resolve) => {
    const timer = setInterval(() => reader.drain(), FOLLOW_POLL_MS);
    const stop = () => {
      clearInterval(timer);
      reader.drain(true);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
