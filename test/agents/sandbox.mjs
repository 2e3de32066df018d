#!/usr/bin/env node
// Runs a command next to a fake model server, inside a network namespace that has only loopback.
//
//   unshare -n node test/agents/sandbox.mjs --scenario S --log F -- CMD ARGS...
//
// Inside the namespace it brings `lo` up, refuses to run unless loopback is the only interface that
// is up, there is no default route and this is not the host's network namespace, starts the fake
// server in-process, runs CMD with FAKE_MODEL_URL=<url> added to the environment it was given,
// forwards SIGTERM/SIGINT/SIGHUP to CMD, and exits with CMD's exit code (or 128+signal).
// The literal text ${FAKE_MODEL_URL} in CMD's arguments and environment values is replaced by the
// URL (e.g. ANTHROPIC_BASE_URL='${FAKE_MODEL_URL}'), so callers need no shell wrapper.
// --scenario takes a JSON string or a file path (see fake-model-server.mjs); --log is optional;
// --port N fixes the port (each namespace has its own, so any port is free). Exit 125: refused.

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { startFakeModelServer } from './fake-model-server.mjs';

function fail(message) {
  process.stderr.write(`sandbox: ${message}\n`);
  process.exit(125);
}

function parseArgs(argv) {
  const out = { cmd: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      out.cmd = argv.slice(i + 1);
      break;
    }
    if (arg === '--scenario') out.scenario = argv[++i];
    else if (arg === '--log') out.log = argv[++i];
    else if (arg === '--port') out.port = Number(argv[++i]);
    else fail(`unknown argument ${arg}`);
  }
  if (out.cmd.length === 0) fail('usage: unshare -n node sandbox.mjs --scenario S [--log F] -- CMD ARGS...');
  return out;
}

/** Throws unless this process sits in its own network namespace with loopback as the only way out. */
export function assertLoopbackOnly() {
  const mine = fs.readlinkSync('/proc/self/ns/net');
  let host = null;
  try {
    host = fs.readlinkSync('/proc/1/ns/net');
  } catch {
    // not readable: rely on the checks below
  }
  if (host !== null && host === mine) throw new Error(`still in the host network namespace (${mine}); run me under 'unshare -n'`);
  execFileSync('ip', ['link', 'set', 'lo', 'up'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const links = JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' }));
  const up = links.filter((link) => link.ifname !== 'lo' && (link.flags ?? []).includes('UP'));
  if (up.length > 0) throw new Error(`interfaces other than lo are up: ${up.map((link) => link.ifname).join(', ')}`);
  for (const family of ['-4', '-6']) {
    const routes = JSON.parse(execFileSync('ip', ['-j', family, 'route', 'show', 'table', 'all'], { encoding: 'utf8' }) || '[]');
    const outside = routes.filter((route) => route.dev !== 'lo' && route.type !== 'unreachable' && route.type !== 'prohibit' && route.type !== 'blackhole');
    if (outside.length > 0 || routes.some((route) => route.dst === 'default')) throw new Error(`routes other than loopback exist: ${JSON.stringify(outside)}`);
  }
  const loopback = os.networkInterfaces().lo ?? [];
  if (!loopback.some((address) => address.address === '127.0.0.1')) throw new Error('lo has no 127.0.0.1 after ip link set lo up');
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  try {
    assertLoopbackOnly();
  } catch (error) {
    fail(`refusing to run: ${error.message}`);
  }
  const server = await startFakeModelServer({ scenario: args.scenario, logFile: args.log, port: args.port ?? 0 });
  // The literal text ${FAKE_MODEL_URL} in CMD's arguments or environment values becomes the URL.
  const fill = (value) => value.split('${FAKE_MODEL_URL}').join(server.url);
  const env = Object.fromEntries(Object.entries(process.env).map(([key, value]) => [key, fill(value ?? '')]));
  const child = spawn(args.cmd[0], args.cmd.slice(1).map(fill), { stdio: 'inherit', env: { ...env, FAKE_MODEL_URL: server.url } });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
    process.on(signal, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    });
  }
  child.on('error', async (error) => {
    process.stderr.write(`sandbox: cannot start ${args.cmd[0]}: ${error.message}\n`);
    await server.close();
    process.exit(127);
  });
  child.on('exit', async (code, signal) => {
    await server.close();
    process.exit(code ?? 128 + (os.constants.signals[signal] ?? 0));
  });
}

await main();
