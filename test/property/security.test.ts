import fc from 'fast-check';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanLine, cleanText } from '../../src/sanitize.js';
import { removeScratchWorkspace, workspacesRoot } from '../../src/workers/workspace.js';

/** Terminal sequences that could move the cursor, recolour, set the title, or reorder text. */
const HOSTILE = [
  '\u001b[2J', '\u001b[H', '\u001b[10;20H', '\u001b[31m', '\u001b[0m', '\u001b]0;title\u0007', '\u001b]2;x\u001b\\', '\u001b]8;;http://x\u0007',
  '\u001bP1$r\u001b\\', '\u001b(0', '\u001bc', '\u009b31m', '\u001b', '\u0007', '\u0008', '\u0000', '\u007f', '\u202e', '\u2066', '\r', '\u001b[?1049l',
];
const text = fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 20 }), fc.constantFrom(...HOSTILE)), { maxLength: 30 }).map((parts) => parts.join(''));

// Anything that could reach a terminal and act on it: C0 controls (but \n and \t in multi-line text), DEL, C1, bidi overrides.
const CONTROL_LINE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const CONTROL_TEXT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('terminal control sequences never reach the screen', () => {
  it('cleanLine leaves no control character, whatever the text', () => {
    fc.assert(fc.property(text, (input) => !CONTROL_LINE.test(cleanLine(input))), { numRuns: 2000 });
  });

  it('cleanText leaves only newlines and tabs, whatever the text', () => {
    fc.assert(fc.property(text, (input) => !CONTROL_TEXT.test(cleanText(input)) && !cleanText(input).includes('\r')), { numRuns: 2000 });
  });

  it('text without controls comes out as it went in', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), (input) => CONTROL_LINE.test(input) || cleanLine(input) === input), { numRuns: 1000 });
  });
});

describe('deleting a workspace never leaves the workspaces root', () => {
  it('whatever path a task claims (.., ., absolute, symlinks), only a folder strictly inside the root goes', () => {
    const segment = fc.constantFrom('..', '.', 't_1', 't_2', 'nested', 'link-out', 'link-root', 'link-in', 'missing', '');
    fc.assert(
      fc.property(fc.boolean(), fc.array(segment, { minLength: 0, maxLength: 6 }), (fromRoot, parts) => {
        const base = mkdtempSync(join(tmpdir(), 'kanban-contain-'));
        try {
          const db = join(base, 'board', 'board.db');
          const root = workspacesRoot(dirname(db));
          const outside = join(base, 'outside');
          mkdirSync(join(root, 't_1', 'nested'), { recursive: true });
          mkdirSync(join(root, 't_2'), { recursive: true });
          mkdirSync(outside, { recursive: true });
          writeFileSync(join(outside, 'keep'), 'x');
          writeFileSync(join(root, 't_2', 'keep'), 'x');
          symlinkSync(outside, join(root, 'link-out'));
          symlinkSync(root, join(root, 't_1', 'link-root'));
          symlinkSync(join(root, 't_2'), join(root, 't_1', 'link-in'));
          const path = (fromRoot ? root : join(base, 'board')) + sep + parts.join(sep);
          const result = removeScratchWorkspace(path, dirname(db));
          expect(existsSync(join(outside, 'keep'))).toBe(true);
          expect(existsSync(root)).toBe(true);
          if (result.removed) {
            const inside = relative(realpathSync(root), result.path);
            expect(inside === '' || inside.startsWith('..')).toBe(false);
          }
        } finally {
          rmSync(base, { recursive: true, force: true });
        }
      }),
      { numRuns: 300 },
    );
  });
});
