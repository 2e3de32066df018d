import { closeSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** `<board dir>/logs/<task id>.log`: every run's output, appended, one timestamped line at a time. */
export function taskLogPath(dbPath: string, taskId: string): string {
  return join(dirname(dbPath), 'logs', `${taskId}.log`);
}

/** `<board dir>/prompts/<task>-r<run>.md`: the prompt a run was handed, owner-only, removed when the run ends. */
export function promptFilePath(dbPath: string, run: { taskId: string; runId: number }): string {
  return join(dirname(dbPath), 'prompts', `${run.taskId}-r${run.runId}.md`);
}

export function openTaskLog(dbPath: string, taskId: string): number {
  const path = taskLogPath(dbPath, taskId);
  mkdirSync(dirname(path), { recursive: true });
  return openSync(path, 'a');
}

/** Writes lines as `<ISO time> [r<run> <stream>] <text>`, keeping a partial line until it ends. */
export class RunLog {
  private readonly partial = new Map<string, string>();

  constructor(
    private readonly fd: number,
    private readonly runId: number,
  ) {}

  line(stream: string, text: string): void {
    writeSync(this.fd, `${new Date().toISOString()} [r${this.runId} ${stream}] ${text}\n`);
  }

  /** Output from the worker: complete lines now, the rest when it ends. */
  chunk(stream: string, data: Buffer | string): void {
    const lines = ((this.partial.get(stream) ?? '') + data.toString()).split('\n');
    this.partial.set(stream, lines.pop()!);
    for (const text of lines) this.line(stream, text);
  }

  flush(): void {
    for (const [stream, text] of this.partial) if (text !== '') this.line(stream, text);
    this.partial.clear();
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
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
