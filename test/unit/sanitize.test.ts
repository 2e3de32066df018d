import { describe, expect, it } from 'vitest';
import { cleanLine, cleanText } from '../../src/sanitize.js';

describe('cleanLine', () => {
  it.each([
    ['colours', 'a\u001b[31mred\u001b[0mb', 'aredb'],
    ['cursor moves and clears', '\u001b[2J\u001b[Hx\u001b[10;20Hy\u001b[?25l', 'xy'],
    ['window title (OSC ended by BEL)', 'a\u001b]0;pwned\u0007b', 'ab'],
    ['window title (OSC ended by ST)', 'a\u001b]2;pwned\u001b\\b', 'ab'],
    ['hyperlinks', '\u001b]8;;http://evil\u0007click\u001b]8;;\u0007', 'click'],
    ['DCS strings', 'a\u001bPq#0;2;0;0;0\u001b\\b', 'ab'],
    ['8-bit CSI', 'a\u009b31mb', 'ab'],
    ['a lone escape', 'a\u001b', 'a'],
    ['charset switches', 'a\u001b(0b', 'ab'],
    ['bell, backspace, NUL, DEL', 'a\u0007\u0008\u0000\u007fb', 'ab'],
    ['bidi overrides', 'a\u202eb\u2066c', 'abc'],
    ['newlines and tabs become spaces', 'a\nb\r\nc\td', 'a b c d'],
  ])('removes %s', (_name, input, output) => {
    expect(cleanLine(input)).toBe(output);
  });

  it('keeps ordinary text, including non-Latin scripts and emoji', () => {
    const text = 'Déjà vu — 日本語 — 🚀 [brackets] ~tilde~';
    expect(cleanLine(text)).toBe(text);
  });
});

describe('cleanText', () => {
  it('keeps newlines and tabs, folds CRLF, and still strips escapes', () => {
    expect(cleanText('one\r\ntwo\tthree\n\u001b[31mfour\u001b[0m\rfive')).toBe('one\ntwo\tthree\nfour\nfive');
  });
});
