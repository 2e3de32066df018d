import { cleanLine } from '../sanitize.js';
import { typed, type Press } from './keys.js';

/** A line being typed: its text and where the cursor is (in characters). */
export interface LineState {
  value: string;
  cursor: number;
}

export const emptyLine: LineState = { value: '', cursor: 0 };

/**
 * One press applied to a line, as a shell's line editor does: characters insert at the cursor,
 * ←/→ Home/End (Ctrl-A/E) move, Backspace/Delete remove, Ctrl-U deletes to the start, Ctrl-K to the
 * end, Ctrl-W the word before the cursor. Null when the press is not an edit (Enter, Esc, Tab, …).
 */
export function editLine(line: LineState, press: Press): LineState | null {
  const chars = [...line.value];
  const at = Math.min(line.cursor, chars.length);
  const put = (before: string[], after: string[]) => ({ value: [...before, ...after].join(''), cursor: before.length });
  if (press.ctrl) {
    switch (press.name) {
      case 'a':
        return { ...line, cursor: 0 };
      case 'e':
        return { ...line, cursor: chars.length };
      case 'u':
        return put([], chars.slice(at));
      case 'k':
        return put(chars.slice(0, at), []);
      case 'w': {
        let start = at;
        while (start > 0 && chars[start - 1] === ' ') start--;
        while (start > 0 && chars[start - 1] !== ' ') start--;
        return put(chars.slice(0, start), chars.slice(at));
      }
      default:
        return null;
    }
  }
  switch (press.name) {
    case 'left':
      return { ...line, cursor: Math.max(0, at - 1) };
    case 'right':
      return { ...line, cursor: Math.min(chars.length, at + 1) };
    case 'home':
      return { ...line, cursor: 0 };
    case 'end':
      return { ...line, cursor: chars.length };
    case 'backspace':
      return at === 0 ? line : put(chars.slice(0, at - 1), chars.slice(at));
    case 'delete':
      return put(chars.slice(0, at), chars.slice(at + 1));
  }
  const char = typed(press);
  if (char === null) return null;
  const clean = cleanLine(char);
  return clean === '' ? line : put([...chars.slice(0, at), clean], chars.slice(at));
}
