#!/usr/bin/env node
'use strict';
// The launcher (CommonJS: bin/package.json). Start-up is most of what a short command costs (`kanban
// create`, an agent's `kanban worker heartbeat`) and much of the board's first frame, so kanban runs
// from dist/bundle/cli.cjs, one file compiled from a V8 code cache kept beside it, without Node's ES
// module loader (scripts/bundle.mjs).
const { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const BUNDLE = join(__dirname, '..', 'dist', 'bundle');
const FILE = join(BUNDLE, 'cli.cjs');

/**
 * Runs cli.cjs, compiled from its code cache (.cache/, named by the build, Node's version, the
 * machine and Node's flags). A cache that is missing, or that V8 refuses (another V8), is made again
 * as the process exits, when the folder can be written; a process never waits for another's.
 */
function run() {
  // What cli.cjs imports as ES modules (the board's Ink and React) it imports through this file:
  // code compiled from a code cache cannot import() in Node 20 (src/ui/screen-modules-bundled.ts).
  globalThis[Symbol.for('kanban.import')] = (url) => import(url);
  const source = readFileSync(FILE, 'latin1'); // the bundle is ASCII (scripts/bundle.mjs)
  const build = /\/\/# kanban-build (\w+)\n$/.exec(source);
  if (!build) return require(FILE); // not as the build left it: no cache can be trusted to match it
  const cacheFile = join(BUNDLE, '.cache', `cli-${build[1]}-${process.version}-${process.arch}${flagsName()}.v8`);
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

/**
 * Node's flags (its command line, NODE_OPTIONS) name a cache of their own: V8 refuses a cache made
 * under other flags, and processes started both ways would otherwise make it again in turn.
 */
function flagsName() {
  const flags = `${process.execArgv.join(' ')}\0${process.env.NODE_OPTIONS || ''}`;
  if (flags === '\0') return '';
  let hash = 5381;
  for (let i = 0; i < flags.length; i++) hash = (hash * 33 + flags.charCodeAt(i)) >>> 0;
  return `-${hash.toString(16)}`;
}

/** Writes the cache, when its folder can be written: the file is made first, so that a folder that cannot be written costs no serializing. */
function saveCache(script, cacheFile) {
  const temporary = `${cacheFile}.${process.pid}.tmp`;
  let fd;
  try {
    mkdirSync(join(cacheFile, '..'), { recursive: true });
    fd = openSync(temporary, 'wx');
  } catch {
    return; // an install the user cannot write to runs without a cache made here
  }
  try {
    writeFileSync(fd, script.createCachedData());
    closeSync(fd);
    fd = undefined;
    renameSync(temporary, cacheFile);
  } catch {
    try {
      if (fd !== undefined) closeSync(fd);
      rmSync(temporary, { force: true });
    } catch {} // at exit: nothing here may change how the command ends
  }
}

run();
