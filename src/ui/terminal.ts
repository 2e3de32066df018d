import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The alternate screen, a hidden cursor, and a guarantee to give the terminal back as it was. */
const ENTER = '\u001b[?1049h\u001b[?25l\u001b[2J\u001b[H';
const LEAVE = '\u001b[?25h\u001b[?1049l';
/** Mouse buttons and the wheel reported (1000), in the SGR format (1006: any column, unambiguous). */
const MOUSE_ON = '\u001b[?1000h\u001b[?1006h';
const MOUSE_OFF = '\u001b[?1006l\u001b[?1000l';

/**
 * The board's hold on the terminal: the alternate screen, raw input, the mouse. `leave` gives the
 * terminal back as it was (safe to call more than once, and called on process exit whatever
 * happens, so a quit, a signal or a crash all leave it usable); `enter` takes it again (after the
 * editor, after `fg`).
 */
export class FullScreen {
  private inside = false;

  constructor(
    private readonly stdout: NodeJS.WriteStream,
    private readonly stdin: NodeJS.ReadStream,
    private readonly options: { mouse?: boolean } = {},
  ) {
    process.once('exit', () => this.leave());
  }

  enter(): void {
    if (this.inside) return;
    this.inside = true;
    if (this.stdin.isTTY) this.stdin.setRawMode(true);
    this.stdout.write(ENTER + (this.options.mouse ? MOUSE_ON : ''));
  }

  leave(): void {
    if (!this.inside) return;
    this.inside = false;
    if (this.stdin.isTTY) this.stdin.setRawMode(false);
    this.stdout.write((this.options.mouse ? MOUSE_OFF : '') + LEAVE);
  }

  /** Runs `work` (an editor) with the terminal given back, then takes it again. */
  lent<T>(work: () => T): T {
    this.leave();
    try {
      return work();
    } finally {
      this.enter();
    }
  }
}

/**
 * `$VISUAL`, else `$EDITOR`, else `vi`, on `text` in a temporary file, attached to the terminal;
 * what it left in the file, or null when it could not run or failed. The variable is split into
 * words (`code --wait`), never handed to a shell.
 */
export function editInEditor(text: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const [program, ...args] = (env.VISUAL || env.EDITOR || 'vi').trim().split(/\s+/);
  const dir = mkdtempSync(join(tmpdir(), 'kanban-edit-'));
  const file = join(dir, 'task.md');
  try {
    writeFileSync(file, text);
    const result = spawnSync(program!, [...args, file], { stdio: 'inherit' });
    if (result.error || result.status !== 0) return null;
    return readFileSync(file, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** OSC 52: the terminal puts `text` on the clipboard (most terminals, tmux with set-clipboard). */
export function copyToClipboard(stdout: NodeJS.WriteStream, text: string): void {
  stdout.write(`\u001b]52;c;${Buffer.from(text).toString('base64')}\u0007`);
}
