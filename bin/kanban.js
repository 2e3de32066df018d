#!/usr/bin/env node
'use strict';
// The launcher (CommonJS: bin/package.json). Start-up is most of what a short command costs (`kanban
// create`, an agent's `kanban worker heartbeat`) and much of the board's first frame, so kanban runs
// from dist/bundle/cli.cjs, one file compiled from a V8 code cache kept beside it, without Node's ES
// module loader (scripts/bundle.mjs).
const { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const BUNDLE = join(__dirname, '..', 'dist', 'bundle');
const FILE = join(BUNDLE, 'cli.cjs');

/**
 * Runs cli.cjs, compiled from its code cache (.cache/, named by the build, Node's version and the
 * machine). A cache that is missing, or that V8 refuses (another V8 or other flags), is made again as
 * the process exits, when the folder can be written; a process never waits for another's.
 */
function run() {
  // What cli.cjs imports as ES modules (the board's Ink and React) it imports through this file:
  // code compiled from a code cache cannot import() in Node 20 (src/ui/screen-modules-bundled.ts).
  globalThis[Symbol.for('kanban.import')] = (url) => import(url);
  const source = readFileSync(FILE, 'latin1'); // the bundle is ASCII (scripts/bundle.mjs)
  const build = /\/\/# kanban-build (\w+)\n$/.exec(source);
  const cacheFile = join(BUNDLE, '.cache', `cli-${build ? build[1] : 'unnamed'}-${process.version}-${process.arch}.v8`);
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(source), { filename: FILE, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) process.once('exit', () => saveCache(script, cacheFile));
  const module = { exports: {} };
  script.runInThisContext()(module.exports, Module.createRequire(FILE), module, FILE, BUNDLE);
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
      rmSync(temporary, { force: true });
    } catch {}
  }
}

run();
