// esbuild plugins and options for kanban's bundles (scripts/bundle.mjs), and for the benchmarks' Ink
// floor (bench/tui.ts), which is bundled as kanban's screen is.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';

/**
 * commander requires node:child_process at load for executable subcommands, which kanban has none
 * of; loading it costs every command ~6 ms. Its require gets a stand-in that loads the real module on
 * first use.
 */
export const lazyChildProcessForCommander = {
  name: 'lazy-child-process-for-commander',
  setup(bundle) {
    bundle.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'lazy-builtin' } : undefined,
    );
    bundle.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, () => ({
      contents: `let real; module.exports = new Proxy({}, { get: (_, key) => (real ??= require('node:child_process'))[key] });`,
      loader: 'js',
    }));
  },
};

/**
 * yoga (Ink's layout, WebAssembly embedded as base64) loads its binary with fetch() when there is a
 * fetch, and in Node there is: the first touch of the global loads undici, then the data: URL is
 * decoded through it, ~45 ms of the board's start (issue 15's first frame). Its module gets a fetch of
 * its own that is undefined, so it decodes the base64 itself, as it does where there is no fetch.
 */
export const yogaWithoutFetch = {
  name: 'yoga-without-fetch',
  setup(bundle) {
    bundle.onLoad({ filter: /[\\/]yoga-layout[\\/]dist[\\/]binaries[\\/]yoga-wasm-base64-esm\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (!/typeof fetch/.test(source)) throw new Error(`${args.path} no longer asks for fetch: see scripts/bundle-plugins.mjs`);
      return { contents: `const fetch = undefined;\n${source}`, loader: 'js' };
    });
  },
};

/**
 * Counts a change a plugin must make in every build it is part of: a build in which it made none
 * (the package it changes has changed) fails, saying why. Returns the function that counts one.
 */
function madeInEveryBuild(bundle, why) {
  let made = 0;
  bundle.onStart(() => {
    made = 0;
  });
  bundle.onEnd(() => (made === 0 ? { errors: [{ text: `${why}: see scripts/bundle-plugins.mjs` }] } : undefined));
  return () => made++;
}

/**
 * Characters that each take one column in a terminal, each its own grapheme cluster, when ambiguous
 * ones are narrow (string-width's default): printable ASCII; Latin-1 but the soft hyphen; Latin
 * Extended and IPA (to U+02FF: the combining marks begin at U+0300); general punctuation from U+2010
 * but the line and paragraph separators, the bidirectional and invisible controls and the spaces
 * (U+2028-202F, U+205F on); arrows; box drawing, blocks and geometric shapes but the two wide ones
 * (U+25FD, U+25FE: emoji presentation); the board's heart and check mark (U+2665, U+2713).
 * test/unit/width.test.ts checks each against string-width.
 */
export const NARROW_TEXT_SOURCE = '^[\\u0020-\\u007E\\u00A0-\\u00AC\\u00AE-\\u02FF\\u2010-\\u2027\\u2030-\\u205E\\u2190-\\u21FF\\u2500-\\u25FC\\u25FF\\u2665\\u2713]*$';
const ASCII_TEXT = '/^[\\u0020-\\u007E]*$/';
const ASCII_FAST_PATH = `${ASCII_TEXT}.test(string)`;

/**
 * string-width (8.x: Ink's, and the board's own) answers printable ASCII at once and sends anything
 * else through Intl.Segmenter and a test of each cluster against the RGI emoji regex, whose first use
 * compiles it: ~15 ms of the board's first frame per copy, for a "·" in the header or a "…". Its fast
 * path, which comes after its options are read, is widened to NARROW_TEXT_SOURCE when ambiguous
 * characters are narrow (the default). null for a copy without the fast path (wrap-ansi's 7.x).
 */
export function widenStringWidthFastPath(source) {
  if (!source.includes(ASCII_FAST_PATH)) return null;
  return source.replace(ASCII_FAST_PATH, () => `(ambiguousIsNarrow ? /${NARROW_TEXT_SOURCE}/ : ${ASCII_TEXT}).test(string)`);
}

/** The bundles that draw (the screen's and cli.cjs) get the widened string-width; a build in which no copy had the fast path fails. */
export const stringWidthNarrowFastPath = {
  name: 'string-width-narrow-fast-path',
  setup(bundle) {
    const widened = madeInEveryBuild(bundle, `no copy of string-width had its ASCII fast path (${ASCII_FAST_PATH})`);
    bundle.onLoad({ filter: /[\\/]node_modules[\\/]string-width[\\/]index\.js$/ }, (args) => {
      const contents = widenStringWidthFastPath(readFileSync(args.path, 'utf8'));
      if (contents === null) return undefined;
      widened();
      return { contents, loader: 'js' };
    });
  },
};

/**
 * The functions of @alcalzone/ansi-tokenize that scripts/ink-styled-chars.mjs was written against
 * (0.2.5), by a hash of their text: a version that changes either fails the build, to be read again.
 */
const ANSI_TOKENIZE_CHECKED = {
  'styledChars.js': ['styledCharsToString', 'f8e7527d1c73c925'],
  'diff.js': ['diffAnsiCodes', 'b8fd20ee2383e0d7'],
};

function functionText(source, name) {
  return new RegExp(`export function ${name}\\([^)]*\\) \\{[\\s\\S]*?\\n\\}`).exec(source)?.[0] ?? '';
}

/**
 * Ink draws every frame by turning each line of styled characters into a string
 * (@alcalzone/ansi-tokenize styledCharsToString), working out the codes from each character's style
 * to the next one's, three Sets a character: ~6,400 of them for a 160x40 screen, though most
 * neighbours share their style. Ink's import of the package gets it with scripts/ink-styled-chars.mjs's
 * styledCharsToString, which skips a neighbour of the same style (the same string:
 * test/unit/styled-chars.test.ts), resolved from Ink's folder as Ink's import is. A build in which
 * Ink no longer imports the package, or whose functions changed, fails.
 */
export const inkStyledCharsSameStyle = {
  name: 'ink-styled-chars-same-style',
  setup(bundle) {
    const replaced = madeInEveryBuild(bundle, 'Ink no longer imports @alcalzone/ansi-tokenize');
    bundle.onResolve({ filter: /^@alcalzone\/ansi-tokenize$/ }, (args) =>
      args.namespace === 'file' && /[\\/]node_modules[\\/]ink[\\/]/.test(args.importer) ? { path: args.resolveDir, namespace: 'ink-ansi-tokenize' } : undefined,
    );
    bundle.onLoad({ filter: /.*/, namespace: 'ink-ansi-tokenize' }, async (args) => {
      const original = await bundle.resolve('@alcalzone/ansi-tokenize', { resolveDir: args.path, kind: 'import-statement' });
      if (original.errors.length > 0) return { errors: original.errors };
      for (const [file, [name, hash]] of Object.entries(ANSI_TOKENIZE_CHECKED)) {
        const text = functionText(readFileSync(join(dirname(original.path), file), 'utf8'), name);
        if (createHash('sha256').update(text).digest('hex').slice(0, 16) !== hash) {
          return { errors: [{ text: `@alcalzone/ansi-tokenize's ${name} is not the one scripts/ink-styled-chars.mjs was written against: read it again, then update ANSI_TOKENIZE_CHECKED in scripts/bundle-plugins.mjs` }] };
        }
      }
      replaced();
      return {
        // The package's own exports, and this styledCharsToString in place of its own (a module's own export wins over `export *`).
        contents: `export * from '@alcalzone/ansi-tokenize';\n${readFileSync(new URL('./ink-styled-chars.mjs', import.meta.url), 'utf8')}`,
        resolveDir: args.path, // Ink's folder: the package resolves as it does for Ink
        loader: 'js',
      };
    });
  },
};

/** dist/bundle/screen.js: the modules the board's screen takes from ES modules, by the names it imports them by. */
export const SCREEN_MODULES_ENTRY = `
export * as ink from 'ink';
export * as react from 'react';
export * as jsxRuntime from 'react/jsx-runtime';
`;
const SCREEN_MODULE_KEYS = { ink: 'ink', react: 'react', 'react/jsx-runtime': 'jsxRuntime' };

/**
 * In the CommonJS bundle, \`ink\`, \`react\` and \`react/jsx-runtime\` are the modules of
 * dist/bundle/screen.js, which the screen imported first (src/ui/screen-modules-bundled.ts, put in
 * place of screen-modules.ts here).
 */
export const screenModulesFromEsm = {
  name: 'screen-modules-from-esm',
  setup(bundle) {
    bundle.onResolve({ filter: /^(ink|react|react\/jsx-runtime)$/ }, (args) => ({ path: args.path, namespace: 'screen-module' }));
    bundle.onLoad({ filter: /.*/, namespace: 'screen-module' }, (args) => ({
      contents: `const loaded = globalThis[Symbol.for('kanban.screen-modules')];
if (!loaded) throw new Error('${args.path} was required before the screen loaded it (ui/load.ts importHidingCi)');
module.exports = loaded.${SCREEN_MODULE_KEYS[args.path]};`,
      loader: 'js',
    }));
    bundle.onResolve({ filter: /[\\/]screen-modules\.js$/ }, (args) => ({ path: join(args.resolveDir, args.path.replace(/screen-modules\.js$/, 'screen-modules-bundled.js')) }));
  },
};

/** What every bundle of kanban is built with. Minified, names kept, and ASCII: bin/kanban.js reads cli.cjs as latin1. */
export const BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  define: { 'process.env.NODE_ENV': '"production"' },
  minify: true,
  keepNames: true,
  charset: 'ascii',
  logLevel: 'warning',
};

/** How the board's Ink and React are bundled (dist/bundle/screen.js), and the benchmarks' Ink floor with them. */
export const SCREEN_BUNDLE_OPTIONS = {
  ...BUNDLE_OPTIONS,
  splitting: true, // Ink's devtools (loaded only in development) stays in a chunk of its own
  format: 'esm',
  external: ['react-devtools-core'],
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  plugins: [yogaWithoutFetch, stringWidthNarrowFastPath, inkStyledCharsSameStyle],
};
