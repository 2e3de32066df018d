/** The alternate screen, a hidden cursor, and a guarantee to give the terminal back as it was. */
const ENTER = '\u001b[?1049h\u001b[?25l\u001b[2J\u001b[H';
const LEAVE = '\u001b[?25h\u001b[?1049l';
/** Mouse buttons and the wheel reported (1000), in the SGR format (1006: any column, unambiguous). */
const MOUSE_ON = '\u001b[?1000h\u001b[?1006h';
const MOUSE_OFF = '\u001b[?1006l\u001b[?1000l';

/**
 * Switches to the alternate screen and returns the function that switches back: safe to call more
 * than once, and called on process exit whatever happens, so a quit, a signal or a crash all leave
 * the terminal usable.
 */
export function enterFullScreen(stdout: NodeJS.WriteStream, stdin: NodeJS.ReadStream, options: { mouse?: boolean } = {}): () => void {
  stdout.write(ENTER + (options.mouse ? MOUSE_ON : ''));
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    if (stdin.isTTY) stdin.setRawMode(false);
    stdout.write((options.mouse ? MOUSE_OFF : '') + LEAVE);
  };
  process.once('exit', restore);
  return restore;
}
