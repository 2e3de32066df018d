import { writeSync } from 'node:fs';

type Stdio = 'stdout' | 'stderr';
const FD: Record<Stdio, number> = { stdout: 1, stderr: 2 };

/** Whether Node's stream for stdout or stderr has been made (from then on, all its output goes through it). */
const made: Record<Stdio, boolean> = { stdout: false, stderr: false };
/** Whether watchStdio was called (once: its handlers are set once), and whether output goes to the descriptors. */
let set = false;
let watching = false;

/**
 * How a command's output is written. Node makes `process.stdout` and `process.stderr` when first
 * touched, and making one loads ~25 of Node's modules (streams, net for a pipe): ~9 ms of a short
 * command's start on a slow machine (issue 15's start-up goal). So a command's lines are written to
 * the file descriptor directly, as Node's own stream would on Linux (writes to files, pipes and
 * terminals are synchronous there), until something makes the stream: then everything goes through
 * the stream, in order. A write that fails (a pipe set non-blocking by another process, a reader gone)
 * is handed to the stream, which reports it as before.
 *
 * `setUp` is given each stream as it is made, by kanban or by anything else (commander's help, Ink).
 * Call it before anything touches `process.stdout` or `process.stderr` (cli/run.ts does, first): a
 * stream made before would not be known to be there, and writes would go around it.
 */
export function watchStdio(setUp: Record<Stdio, (stream: NodeJS.WriteStream) => void>): void {
  if (set) return;
  set = true;
  // On Windows a console's code page decides what bytes mean, and Node's stream writes it text.
  watching = process.platform !== 'win32';
  for (const name of ['stdout', 'stderr'] as const) {
    const node = Object.getOwnPropertyDescriptor(process, name);
    if (!watching || !node?.get || !node.configurable) {
      made[name] = true;
      setUp[name](process[name]);
      continue;
    }
    const make = node.get;
    Object.defineProperty(process, name, {
      configurable: true,
      enumerable: node.enumerable ?? true,
      get() {
        Object.defineProperty(process, name, node); // Node's own getter again: it keeps the stream
        const stream = make.call(process) as NodeJS.WriteStream;
        made[name] = true;
        setUp[name](stream);
        return stream;
      },
    });
  }
}

/** Writes to stdout (see `watchStdio`). */
export function writeOut(text: string | Uint8Array): void {
  write('stdout', text);
}

/** Writes to stderr (see `watchStdio`). */
export function writeErr(text: string): void {
  write('stderr', text);
}

function write(name: Stdio, text: string | Uint8Array): void {
  if (!watching || made[name]) {
    process[name].write(text);
    return;
  }
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const { written, error } = writeAllSync(FD[name], bytes);
  if (error !== undefined) process[name].write(bytes.subarray(written));
}

/** Writes all of `bytes` to `fd`, however many writes it takes; says how much was written before a write failed, and why. */
export function writeAllSync(fd: number, bytes: Uint8Array): { written: number; error?: unknown } {
  let written = 0;
  try {
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    return { written };
  } catch (error) {
    return { written, error };
  }
}
