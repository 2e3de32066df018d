import xterm from '@xterm/headless';
import * as pty from 'node-pty';

// CommonJS: its named exports are not visible to Node's ESM loader.
const { Terminal } = xterm;
type Terminal = InstanceType<typeof Terminal>;
import { KANBAN_BIN } from './cli.js';

export interface Screen {
  /** The text on screen now, one string per row, trailing spaces trimmed. */
  lines(): string[];
  text(): string;
  /** Waits until the screen shows what `check` wants. */
  waitFor(what: string, check: (text: string) => boolean, timeoutMs?: number): Promise<void>;
  press(...keys: string[]): Promise<void>;
  resize(columns: number, rows: number): void;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number>;
  term: Terminal;
  titles: string[];
  pid: number;
  kill(signal?: string): void;
}

export { KEY } from './keys.js';

/** `kanban …` in a real pseudo-terminal, its output fed to a headless xterm that keeps the screen. */
export function openScreen(args: string[], env: NodeJS.ProcessEnv, columns = 100, rows = 30): Screen {
  const term = new Terminal({ cols: columns, rows, allowProposedApi: true });
  const titles: string[] = [];
  term.onTitleChange((title) => titles.push(title));
  const child = pty.spawn(process.execPath, [KANBAN_BIN, ...args], { name: 'xterm-256color', cols: columns, rows, env: env as Record<string, string> });
  child.onData((data) => term.write(data));
  const exited = new Promise<number>((resolve) => child.onExit(({ exitCode }) => setTimeout(() => resolve(exitCode), 50)));
  const lines = () => {
    const buffer = term.buffer.active;
    return Array.from({ length: term.rows }, (_, i) => buffer.getLine(buffer.viewportY + i)?.translateToString(true) ?? '');
  };
  const text = () => lines().join('\n');
  return {
    lines,
    text,
    term,
    titles,
    pid: child.pid,
    exited,
    kill: (signal) => child.kill(signal),
    async waitFor(what, check, timeoutMs = 20_000) { // the machine's deadline, not the product's: generous
      const deadline = Date.now() + timeoutMs;
      while (!check(text())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the screen:\n${text()}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async press(...keys) {
      for (const key of keys) {
        child.write(key);
        await new Promise((resolve) => setTimeout(resolve, 60));
      }
    },
    resize(c, r) {
      child.resize(c, r);
      term.resize(c, r);
    },
  };
}
