import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { styledCharsFromTokens, styledCharsToString, tokenize } from '@alcalzone/ansi-tokenize';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a build script in plain JavaScript, without types
import { inkStyledCharsSameStyle } from '../../scripts/bundle-plugins.mjs';
// @ts-expect-error: a build script in plain JavaScript, without types
import { styledCharsToString as sameStyleSkipping } from '../../scripts/ink-styled-chars.mjs';
import { bundled, bundleOnly } from '../helpers/bundle.js';

/**
 * The screen's bundle gives Ink a styledCharsToString that skips neighbours of the same style
 * (scripts/ink-styled-chars.mjs): it must make the very string Ink's own makes, for any styled text.
 */
const CODES = ['\u001b[0m', '\u001b[1m', '\u001b[2m', '\u001b[22m', '\u001b[3m', '\u001b[4m', '\u001b[7m', '\u001b[27m', '\u001b[31m', '\u001b[32m', '\u001b[39m', '\u001b[44m', '\u001b[49m', '\u001b[38;5;208m', '\u001b[48;2;10;20;30m', '\u001b[90m', '\u001b]8;;https://example.com\u0007', '\u001b]8;;\u0007'];
const styledText = fc.array(fc.oneof(fc.constantFrom(...CODES), fc.string({ maxLength: 6 }), fc.constantFrom('·', '…', '中', '─', ' ')), { maxLength: 40 }).map((parts) => parts.join(''));

type OutputClass = new (options: { width: number; height: number }) => { write(x: number, y: number, text: string, options: { transformers: unknown[] }): void; get(): { output: string; height: number } };
/** Ink's Output (not among the package's exports): what Ink draws a frame with. */
const INK_OUTPUT = join(process.cwd(), 'node_modules', 'ink', 'build', 'output.js');
let BundledOutput: OutputClass;
let InkOutput: OutputClass;

beforeAll(async () => {
  const bundle = await bundled<{ default: OutputClass }>(`export { default } from ${JSON.stringify(INK_OUTPUT)};`, [inkStyledCharsSameStyle]);
  expect(bundle.text).toContain('function sameStyles');
  BundledOutput = bundle.exports.default;
  InkOutput = ((await import(pathToFileURL(INK_OUTPUT).href)) as { default: OutputClass }).default;
});

describe("Ink's styled characters to a string, skipping neighbours of the same style", () => {
  it('is the string Ink’s own makes, for any styled text', () => {
    fc.assert(
      fc.property(styledText, (text) => {
        const chars = styledCharsFromTokens(tokenize(text));
        return sameStyleSkipping(chars) === styledCharsToString(chars);
      }),
      { numRuns: 3000 },
    );
  });

  it('a whole screen drawn through the bundled Output is the one Ink draws', () => {
    const write = fc.record({ x: fc.nat(30), y: fc.nat(8), text: styledText });
    fc.assert(
      fc.property(fc.array(write, { maxLength: 12 }), (writes) => {
        const [ours, inks] = [new BundledOutput({ width: 32, height: 10 }), new InkOutput({ width: 32, height: 10 })];
        for (const { x, y, text } of writes) for (const output of [ours, inks]) output.write(x, y, text, { transformers: [] });
        return ours.get().output === inks.get().output;
      }),
      { numRuns: 500 },
    );
  });

  it('a build without Ink fails, saying so (the plugin no longer finds what it replaces)', async () => {
    await expect(bundleOnly('export default 1;', [inkStyledCharsSameStyle])).rejects.toThrow(/Ink no longer imports @alcalzone\/ansi-tokenize/);
  });
});
