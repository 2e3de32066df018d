#!/usr/bin/env node
'use strict';
// The launcher (CommonJS: bin/package.json). Start-up is most of what a short command costs (`kanban
// create`, an agent's `kanban worker heartbeat`), so:
// - every command but the board's screen runs from dist/bundle/cli.cjs, one file compiled from a V8
//   code cache kept beside it, without Node's ES module loader;
// - `kanban tui` runs from the ES module bundle (dist/bundle/main.js): Ink and React load only as ES
//   modules. Should the quick look below miss it, cli.cjs hands the screen over itself
//   (src/ui/run-in-esm-bundle.ts).
const { mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const BUNDLE = join(__dirname, '..', 'dist', 'bundle');

/** The global options that take a value (src/cli/program.ts), which the look for the command skips. */
const OPTIONS_WITH_VALUE = new Set(['--db', '--board', '--config']);

/** The command's name: the first word that is neither an option nor an option's value. */
function commandName(argv) {
  for (let i = 2; i < argv.length; i++) {
    if (OPTIONS_WITH_VALUE.has(argv[i])) i++;
    else if (!argv[i].startsWith('-')) return argv[i];
  }
  return undefined;
}

/**
 * Runs cli.cjs, compiled from its code cache (.cache/, named by the build, Node's version and the
 * machine). A cache that is missing, or that V8 refuses (another V8 or other flags), is made again as
 * the process exits, when the folder can be written; a process never waits for another's.
 */
function runCommonJsBundle() {
  const vm = require('node:vm');
  const Module = require('node:module');
  const file = join(BUNDLE, 'cli.cjs');
  const source = readFileSync(file, 'latin1'); // the bundle is ASCII (scripts/bundle.mjs)
  const loader = vm.constants && vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER;
  if (loader === undefined) return require(file); // a Node 20 before 20.12: no cache
  const build = /\/\/# kanban-build (\w+)\n$/.exec(source);
  const cacheFile = join(BUNDLE, '.cache', `cli-${build ? build[1] : 'unnamed'}-${process.version}-${process.arch}.v8`);
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData, importModuleDynamically: loader });
  if (cachedData === undefined || script.cachedDataRejected) process.once('exit', () => saveCache(script, cacheFile));
  const module = { exports: {} };
  script.runInThisContext()(module.exports, Module.createRequire(file), module, file, BUNDLE);
}

function saveCache(script, cacheFile) {
  const temporary = `${cacheFile}.${process.pid}.tmp`;
  try {
    mkdirSync(join(cacheFile, '..'), { recursive: true });
    writeFileSync(temporary, script.createCachedData());
    renameSync(temporary, cacheFile);
  } catch {
    // an install the user cannot write to runs without a cache made here
    try {
      require('node:fs').rmSync(temporary, { force: true });
    } catch {}
  }
}

if (commandName(process.argv) === 'tui') import('../dist/bundle/main.js');
else runCommonJsBundle();
