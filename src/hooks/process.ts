import { spawn, type ChildProcess } from 'node:child_process';
import { errorMessage } from '../errors.js';
import { cleanLine } from '../sanitize.js';
import { signalGroup } from '../signals.js';

export interface HookSpawn {
  argv: readonly string[];
  stdin: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
}

/** How a hook ended: fine, or what went wrong and the last line it wrote to stderr. */
export type HookExit = { ok: true } | { ok: false; error: string; stderr: string | null };

/** Of a hook's stderr only the end is kept (for its last line); its stdout is not read at all. */
const STDERR_TAIL_CHARS = 4096;
const STDERR_LINE_CHARS = 200;
/** After the hook exits, how long its stderr may take to drain (a child of it may hold the pipe open). */
const DRAIN_MS = 250;
/** After SIGKILL, how long before the hook is given up on even if its exit was never seen. */
const KILL_WAIT_MS = 5000;

/**
 * Runs one hook: argv (never a shell), `stdin` written to it, in its own session and process group
 * (detached), so that at `timeoutMs` the whole group is killed (SIGKILL: a notification has nothing
 * to save). Never rejects: every way it can fail is an answer.
 */
export function runHookProcess(spec: HookSpawn): Promise<HookExit> {
  return new Promise((resolve) => {
    let child: ChildProcess | undefined;
    let tail = '';
    let exited = false;
    let timedOut = false;
    let finished = false;
    const timers: NodeJS.Timeout[] = [];
    const later = (ms: number, action: () => void) => timers.push(setTimeout(action, ms));
    const lastLine = () => {
      const line = cleanLine(tail.trimEnd().split('\n').pop() ?? '').trim();
      return line === '' ? null : line.length > STDERR_LINE_CHARS ? `${line.slice(0, STDERR_LINE_CHARS)}…` : line;
    };
    const finish = (exit: HookExit) => {
      if (finished) return;
      finished = true;
      for (const timer of timers) clearTimeout(timer);
      child?.stdin?.destroy();
      child?.stderr?.destroy();
      resolve(exit.ok ? exit : { ...exit, stderr: exit.stderr ?? lastLine() });
    };
    const ended = (code: number | null, signal: NodeJS.Signals | null): HookExit => {
      if (timedOut) return { ok: false, error: `timed out after ${spec.timeoutMs / 1000}s (killed)`, stderr: null };
      if (code === 0) return { ok: true };
      return { ok: false, error: code !== null ? `exit ${code}` : `killed by ${signal}`, stderr: null };
    };

    const [program, ...args] = spec.argv;
    try {
      child = spawn(program!, args, { detached: true, stdio: ['pipe', 'ignore', 'pipe'], env: spec.env });
    } catch (err) {
      return finish({ ok: false, error: `could not start: ${errorMessage(err)}`, stderr: null }); // an argument Node refuses (a NUL byte)
    }
    child.on('error', (err) => finish({ ok: false, error: `could not start: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`, stderr: null }));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      tail = (tail + chunk).slice(-STDERR_TAIL_CHARS);
    });
    child.stdin!.on('error', () => {}); // a hook that does not read its stdin: not a failure
    child.stdin!.end(spec.stdin);
    child.on('close', (code, signal) => finish(ended(code, signal)));
    child.on('exit', (code, signal) => {
      exited = true;
      later(DRAIN_MS, () => finish(ended(code, signal)));
    });
    if (child.pid === undefined) return; // it did not start: 'error' says why
    const pid = child.pid;
    later(spec.timeoutMs, () => {
      if (exited) return; // it ended in time; only its stderr is still draining
      timedOut = true;
      signalGroup(pid, 'SIGKILL');
      later(KILL_WAIT_MS, () => finish(ended(null, 'SIGKILL')));
    });
  });
}
