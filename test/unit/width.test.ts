import fc from 'fast-check';
import stringWidth from 'string-width';
import { beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a build script in plain JavaScript, without types
import { NARROW_TEXT_SOURCE, stringWidthNarrowFastPath, widenStringWidthFastPath } from '../../scripts/bundle-plugins.mjs';
import { bundled, bundleOnly } from '../helpers/bundle.js';

/**
 * The bundles' string-width answers text of NARROW_TEXT_SOURCE's characters by its length, without
 * its segmenter (scripts/bundle-plugins.mjs): each of those characters must be one column to
 * string-width itself, and the widened copy must agree with the original on any text.
 */
const narrow = new RegExp(NARROW_TEXT_SOURCE as string);
const narrowCodePoints = Array.from({ length: 0x3000 }, (_, cp) => cp).filter((cp) => narrow.test(String.fromCodePoint(cp)));
type Width = typeof stringWidth;

let widened: Width;

beforeAll(async () => {
  const bundle = await bundled<{ default: Width }>("export { default } from 'string-width';", [stringWidthNarrowFastPath]);
  expect(bundle.text).toContain('\\u00AE-\\u02FF');
  widened = bundle.exports.default;
});

describe('the narrow text of the bundles’ string-width', () => {
  it('is one column a character to string-width itself, each of its characters alone', () => {
    expect(narrowCodePoints.length).toBeGreaterThan(1000);
    const wrong = narrowCodePoints.filter((cp) => stringWidth(String.fromCodePoint(cp)) !== 1).map((cp) => `U+${cp.toString(16).toUpperCase()}`);
    expect(wrong).toEqual([]);
  });

  it('leaves out what is not one column: the soft hyphen, combining marks, zero-width and bidirectional controls, the emoji squares', () => {
    for (const cp of [0x00ad, 0x0300, 0x200b, 0x200d, 0x202e, 0x2060, 0x25fd, 0x25fe, 0x3000, 0x1f600]) expect(narrow.test(String.fromCodePoint(cp)), `U+${cp.toString(16)}`).toBe(false);
  });

  it('any text of those characters is as many columns as characters, to string-width itself', () => {
    const text = fc.array(fc.constantFrom(...narrowCodePoints), { maxLength: 40 }).map((cps) => String.fromCodePoint(...cps));
    fc.assert(fc.property(text, (s) => stringWidth(s) === s.length), { numRuns: 2000 });
  });

  it('the widened copy agrees with string-width on any text, styled or not, with ambiguous characters narrow or wide', () => {
    const pieces = fc.oneof(
      fc.constantFrom(...narrowCodePoints).map((cp) => String.fromCodePoint(cp)),
      fc.constantFrom('\u001b[1m', '\u001b[0m', '\u001b[38;5;2m', '\u00ad', '\u0301', '\u200d', '\u25fd', '\u4e2d', '\u{1f600}', '\u{1f44d}\u{1f3fd}', '\t', '\n'),
    );
    const text = fc.array(pieces, { maxLength: 30 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, fc.boolean(), (s, ambiguousIsNarrow) => widened(s, { ambiguousIsNarrow }) === stringWidth(s, { ambiguousIsNarrow })),
      { numRuns: 3000 },
    );
    expect(widened('kanban · board …', { ambiguousIsNarrow: false })).toBe(stringWidth('kanban · board …', { ambiguousIsNarrow: false }));
  });

  it('a string-width without the ASCII fast path is left as it is; a build in which no copy had it fails', async () => {
    expect(widenStringWidthFastPath('export default function stringWidth(string) { return string.length; }')).toBeNull();
    await expect(bundleOnly('export default 1;', [stringWidthNarrowFastPath])).rejects.toThrow(/no copy of string-width had its ASCII fast path/);
  });
});
