/** What a terminal sends for the keys the board tests press. */
export const KEY = { enter: '\r', escape: '\u001b', up: '\u001b[A', down: '\u001b[B', right: '\u001b[C', left: '\u001b[D', backspace: '\u007f', ctrlC: '\u0003' };
