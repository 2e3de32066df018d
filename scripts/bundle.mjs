// Bundles kanban (dist/cli/main.js, compiled by tsc) into dist/bundle:
// - cli.cjs: all of kanban, one CommonJS file that bin/kanban.js compiles from a V8 code cache.
//   Node's ES module loader, its builtin facades and the compile of every chunk cost a short command
//   (`kanban create`, `kanban worker heartbeat`) ~40 ms more at start on a slow machine, and the
//   board's first frame ~80 ms (issue 15's start-up goals). kanban's modules that only some commands
//   use still run only when used (esbuild's lazy module wrappers).
// - screen.js with its chunks: Ink, React and React's JSX runtime, as ES modules (yoga, Ink's layout,
//   awaits at its top level, which CommonJS cannot), imported by the board's screen before its own
//   modules run (src/ui/screen-modules-bundled.ts).
// - execa.cjs, yaml.cjs, chokidar.cjs: packages cli.cjs requires when a command uses them.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { BUNDLE_OPTIONS, lazyChildProcessForCommander, SCREEN_BUNDLE_OPTIONS, SCREEN_MODULES_ENTRY, screenModulesFromEsm, stringWidthNarrowFastPath } from './bundle-plugins.mjs';

/**
 * Packages cli.cjs requires from CommonJS files of their own in dist/bundle, each one file, loaded only
 * by the commands that use them: execa (an ES module only: the commands that run workers), yaml (the
 * config: 74 files from node_modules, ~40 ms of the board's start) and chokidar (the board's watch).
 * Inside cli.cjs they would be read by every command; a third more for execa alone.
 */
const ON_THEIR_OWN = ['execa', 'yaml', 'chokidar'];
const packagesOnTheirOwn = {
  name: 'packages-on-their-own',
  setup(bundle) {
    bundle.onResolve({ filter: new RegExp(`^(${ON_THEIR_OWN.join('|')})$`) }, (args) => ({ path: `./${args.path}.cjs`, external: true }));
  },
};

await build({
  ...SCREEN_BUNDLE_OPTIONS,
  stdin: { contents: SCREEN_MODULES_ENTRY, resolveDir: '.', sourcefile: 'screen.js' },
  outdir: 'dist/bundle',
  entryNames: 'screen',
  chunkNames: 'chunks/[name]-[hash]',
});

const CLI = 'dist/bundle/cli.cjs';
await build({
  ...BUNDLE_OPTIONS,
  entryPoints: ['dist/cli/main.js'],
  format: 'cjs',
  // PostgreSQL's driver stays in node_modules, for the boards that use it: every command reads the
  // whole of cli.cjs.
  external: ['better-sqlite3', 'pg'],
  define: { ...BUNDLE_OPTIONS.define, 'import.meta.url': '__kanban_module_url' },
  banner: { js: "'use strict'; const __kanban_module_url = require('node:url').pathToFileURL(__filename).href;" },
  outfile: CLI,
  // Code compiled from a code cache cannot import() in Node 20: what is loaded later is required (the
  // board's Ink and React, ES modules, are imported through bin/kanban.js: screenModulesFromEsm).
  supported: { 'dynamic-import': false },
  plugins: [lazyChildProcessForCommander, screenModulesFromEsm, packagesOnTheirOwn, stringWidthNarrowFastPath],
});
for (const name of ON_THEIR_OWN) {
  await build({
    ...BUNDLE_OPTIONS,
    stdin: { contents: `module.exports = require('${name}');`, resolveDir: '.' },
    format: 'cjs',
    outfile: `dist/bundle/${name}.cjs`,
  });
}
// The build's name, which the code cache's file name carries (bin/kanban.js): V8 itself checks a
// cache only against the length of its source, not its text.
const source = readFileSync(CLI, 'latin1');
writeFileSync(CLI, `${source}//# kanban-build ${createHash('sha256').update(source).digest('hex').slice(0, 16)}\n`, 'latin1');

// The code cache, made here once by a command that writes (bin/kanban.js makes it again wherever it is
// missing or refused, when it can write beside the bundle).
const scratch = mkdtempSync(join(tmpdir(), 'kanban-build-'));
try {
  const warm = spawnSync(process.execPath, ['bin/kanban.js', '--db', join(scratch, 'board.db'), 'create', 'warm the code cache'], {
    env: { ...process.env, KANBAN_HOME: scratch },
    encoding: 'utf8',
  });
  if (warm.status !== 0) throw new Error(`the bundle does not run: ${warm.stderr || warm.error}`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
