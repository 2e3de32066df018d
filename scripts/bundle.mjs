// Bundles the CLI (dist/cli/main.js, compiled by tsc) twice, into dist/bundle:
// - cli.cjs: every command but the board's screen, one CommonJS file that bin/kanban.js compiles from
//   a V8 code cache (bin/kanban.js, "Start-up"). Node's ES module loader, its builtin facades and the
//   compile of every chunk cost a short command (`kanban create`, `kanban worker heartbeat`) ~40 ms
//   more at start on a slow machine (issue 15's start-up goal).
// - main.js and run.js with their chunks: ES modules, for `kanban tui` (Ink and React load only as ES
//   modules). The parts only some commands need are split into chunks loaded when used.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { lazyChildProcessForCommander, yogaWithoutFetch } from './bundle-plugins.mjs';

/** In the CommonJS bundle, the board's screen is the ES module bundle's (src/ui/run-in-esm-bundle.ts). */
const screenFromEsmBundle = {
  name: 'screen-from-esm-bundle',
  setup(bundle) {
    bundle.onResolve({ filter: /[\\/]ui[\\/]run\.js$/ }, (args) => ({ path: join(args.resolveDir, args.path.replace(/run\.js$/, 'run-in-esm-bundle.js')) }));
  },
};

/**
 * execa is an ES module only, and a third of cli.cjs were it inside: the CommonJS bundle requires it
 * from a CommonJS file of its own (dist/bundle/execa.cjs), loaded only by the commands that run workers.
 */
const execaOnItsOwn = {
  name: 'execa-on-its-own',
  setup(bundle) {
    bundle.onResolve({ filter: /^execa$/ }, () => ({ path: './execa.cjs', external: true }));
  },
};

const shared = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
};

await build({
  ...shared,
  entryPoints: ['dist/cli/main.js', 'dist/ui/run.js'],
  splitting: true,
  format: 'esm',
  external: ['better-sqlite3', 'react-devtools-core'],
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  outdir: 'dist/bundle',
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  minify: true,
  keepNames: true,
  charset: 'ascii',
  plugins: [lazyChildProcessForCommander, yogaWithoutFetch],
});

const CLI = 'dist/bundle/cli.cjs';
await build({
  ...shared,
  entryPoints: ['dist/cli/main.js'],
  format: 'cjs',
  // Packages that load as CommonJS stay in node_modules, for the commands that use them (the config,
  // PostgreSQL, the board's watch): every command reads the whole of cli.cjs.
  external: ['better-sqlite3', 'yaml', 'pg', 'chokidar'],
  define: { ...shared.define, 'import.meta.url': '__kanban_module_url' },
  banner: { js: "'use strict'; const __kanban_module_url = require('node:url').pathToFileURL(__filename).href;" },
  minify: true,
  keepNames: true,
  charset: 'ascii',
  outfile: CLI,
  plugins: [lazyChildProcessForCommander, screenFromEsmBundle, execaOnItsOwn],
});
await build({
  ...shared,
  stdin: { contents: "export * from 'execa';", resolveDir: '.' },
  format: 'cjs',
  charset: 'ascii',
  minify: true,
  keepNames: true,
  outfile: 'dist/bundle/execa.cjs',
});
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
