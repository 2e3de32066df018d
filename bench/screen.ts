import xterm from '@xterm/headless';
import * as pty from 'node-pty';

// CommonJS: its named exports are not visible to Node's ESM loader.
const { Terminal } = xterm;

/** A program in a 160×40 pseudo-terminal, its output kept by a headless xterm: what the benchmarks time the board against. */
export interface BenchScreen {
  /** performance.now() when it was started. */
  started: number;
  pid: number;
  /** The text on screen now, rows joined by newlines, trailing spaces trimmed. */
  screen(): string;
  write(data: string): void;
  /** The moment (performance.now()) the screen shows `pattern`, looked for every 2 ms; the deadline is the machine's, generous. */
  waitFor(pattern: string | RegExp, what?: string, timeoutMs?: number): Promise<number>;
  /** Types `keys` (a quit), then waits for the exit; SIGKILL when there are none, or after 3 s. */
  stop(keys?: string): Promise<void>;
}

export function spawnScreen(argv: readonly string[], env: Record<string, string> = {}): BenchScreen {
  const term = new Terminal({ cols: 160, rows: 40, allowProposedApi: true });
  const started = performance.now();
  const child = pty.spawn(argv[0]!, argv.slice(1), { cols: 160, rows: 40, env: { ...process.env, ...env } as Record<string, string> });
  child.onData((data) => term.write(data));
  const exited = new Promise<void>((resolve) => child.onExit(() => resolve()));
  const screen = () => Array.from({ length: term.rows }, (_, i) => term.buffer.active.getLine(i)?.translateToString(true) ?? '').join('\n');
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  return {
    started,
    pid: child.pid,
    screen,
    write: (data) => child.write(data),
    async waitFor(pattern, what = String(pattern), timeoutMs = 120_000) {
      const deadline = performance.now() + timeoutMs;
      const shows = () => (typeof pattern === 'string' ? screen().includes(pattern) : pattern.test(screen()));
      while (!shows()) {
        if (performance.now() > deadline) throw new Error(`no ${what} after ${timeoutMs / 1000} s: ${screen()}`);
        await sleep(2);
      }
      return performance.now();
    },
    async stop(keys) {
      if (keys) child.write(keys);
      await Promise.race([exited, sleep(keys ? 3000 : 0).then(() => child.kill('SIGKILL'))]);
      await exited;
    },
  };
}
