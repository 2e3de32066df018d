/** The alternate screen, a hidden cursor, and a guarantee to give the terminal back as it was. */
const ENTER = '\u001b[?1049h\u001b[?25l\u001b[2J\u001b[H';
const LEAVE = '\u001b[?25h\u001b[?1049l';

/**
 * Switches to the alternate screen and returns the function that switches back: safe to call more
 * than once, and called on process exit whatever happens, so a quit, a signal or a crash all leave
 * the terminal usable.
 */
export function enterFullScreen(stdout: NodeJS.WriteStream, stdin: NodeJS.ReadStream): () => void {
  stdout.write(ENTER);
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    if (stdin.isTTY) stdin.setRawMode(false);
    stdout.write(LEAVE);
  };
  process.once('exit', restore);
  return restore;
}
