/**
 * Keys as the board's layers read them: one press at a time, named (`left`, `enter`, `esc`,
 * `pageup`, …) or a character, with its modifiers. What the terminal sends in one read ("jjj", a
 * paste, four arrows) becomes as many presses, each handled against the state the last one left.
 */
export interface Press {
  /** A named key, or the character typed. */
  name: string;
  ctrl: boolean;
  meta: boolean;
}

/** The subset of Ink's key flags this reads. */
export interface InkKey {
  upArrow?: boolean;
  downArrow?: boolean;
  leftArrow?: boolean;
  rightArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  home?: boolean;
  end?: boolean;
  return?: boolean;
  escape?: boolean;
  ctrl?: boolean;
  meta?: boolean;
  shift?: boolean;
  tab?: boolean;
  backspace?: boolean;
  delete?: boolean;
}

const NAMED: Array<[keyof InkKey, string]> = [
  ['upArrow', 'up'],
  ['downArrow', 'down'],
  ['leftArrow', 'left'],
  ['rightArrow', 'right'],
  ['pageUp', 'pageup'],
  ['pageDown', 'pagedown'],
  ['home', 'home'],
  ['end', 'end'],
  ['return', 'enter'],
  ['escape', 'esc'],
  ['tab', 'tab'],
  ['backspace', 'backspace'],
  // Ink names the byte a terminal's Backspace sends (0x7f) `delete`, and cannot tell it from the
  // Delete key: it is taken for the one people press.
  ['delete', 'backspace'],
];

/** A mouse report (SGR 1006): button, column and row from 1, pressed or released. */
export interface MouseEvent {
  button: number;
  x: number;
  y: number;
  release: boolean;
}

const SGR_MOUSE = /^\u001b?\[<(\d+);(\d+);(\d+)([Mm])$/;

export function parseMouse(input: string): MouseEvent | null {
  const m = SGR_MOUSE.exec(input);
  if (!m) return null;
  return { button: Number(m[1]), x: Number(m[2]), y: Number(m[3]), release: m[4] === 'm' };
}

/** Ink's (input, key) as presses: a named key is one press; text is one press per character. */
export function pressesOf(input: string, key: InkKey): Press[] {
  const ctrl = key.ctrl ?? false;
  const meta = (key.meta ?? false) && !key.escape;
  for (const [flag, name] of NAMED) if (key[flag]) return [{ name, ctrl, meta }];
  if (ctrl) return input ? [{ name: input, ctrl, meta }] : [];
  const presses: Press[] = [];
  for (const char of input) {
    if (char === '\r' || char === '\n') presses.push({ name: 'enter', ctrl: false, meta });
    else if (char === '\t') presses.push({ name: 'tab', ctrl: false, meta });
    else if (char === '\u007f' || char === '\b') presses.push({ name: 'backspace', ctrl: false, meta });
    else if (char === ' ') presses.push({ name: 'space', ctrl: false, meta });
    else presses.push({ name: char, ctrl: false, meta });
  }
  return presses;
}

/** The character a press types into a prompt, if it types one. */
export function typed(press: Press): string | null {
  if (press.ctrl || press.meta) return null;
  if (press.name === 'space') return ' ';
  return [...press.name].length === 1 ? press.name : null;
}
