// Ink's styledCharsToString (@alcalzone/ansi-tokenize), as the screen's bundle has it
// (scripts/bundle-plugins.mjs inkStyledCharsSameStyle): the same string, without working out the
// codes between two neighbouring characters of the same style, which most are.
import { ansiCodesToString, diffAnsiCodes } from '@alcalzone/ansi-tokenize';

/** Whether two reduced styles are the same codes in the same order: the way between them is no code at all. */
function sameStyles(from, to) {
  if (from === to) return true;
  if (from.length !== to.length) return false;
  for (let i = 0; i < from.length; i++) if (from[i].code !== to[i].code || from[i].endCode !== to[i].endCode) return false;
  return true;
}

/** A line of styled characters as a string: each character's codes where its style changes, and the last one's undone at the end. */
export function styledCharsToString(chars) {
  let text = '';
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i];
    if (i === 0) text += ansiCodesToString(char.styles);
    else if (!sameStyles(chars[i - 1].styles, char.styles)) text += ansiCodesToString(diffAnsiCodes(chars[i - 1].styles, char.styles));
    text += char.value;
    if (i === chars.length - 1 && char.styles.length > 0) text += ansiCodesToString(diffAnsiCodes(char.styles, []));
  }
  return text;
}
