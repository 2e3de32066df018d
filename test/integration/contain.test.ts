import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { containedArgv, containerPath, parseExecFailure, parseKillReport, parseMembers } from '../../src/workers/contain.js';
import type { Member } from '../../src/dispatcher/processes.js';

/**
 * The process container, with real processes: workers are small node and sh scripts that leave
 * processes behind in every way a worker can; every process of a test carries a marker (in its
 * environment, or in its argv when its environment was cleared), and after the container has exited
 * none may be left.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));
const binary = join(root, 'dist', 'native', 'kanban-contain');
const MARK = 'KANBAN_CONTAIN_TEST_MARK';
const GRACE_MS = 300;
/** Deadlines for what takes a fraction of a second on an idle machine; tests must pass under load. */
const DEADLINE_MS = 15_000;

let dir: string;
/** A copy of the binary: a build running meanwhile (it deletes dist/) does not pull it away mid-test. */
let copy: string;
let nodeComm: string;
const marks: string[] = [];

const DAEMON = `
// node daemon.cjs <mark> [ignore-term] [respawn-on-term]: runs until killed; says 'ready' once set up.
const { spawn } = require('node:child_process');
const options = process.argv.slice(3);
if (options.includes('ignore-term')) process.on('SIGTERM', () => {});
if (options.includes('respawn-on-term')) {
  process.on('SIGTERM', () => {
    spawn(process.execPath, [__filename, process.argv[2]], { detached: true, stdio: 'ignore' }).unref();
    process.exit(0);
  });
}
setInterval(() => {}, 1 << 30);
process.stdout.write('ready\\n');
`;

const WORKER = `
// node worker.cjs <daemon|env-i|child> <mark> <exit code> [daemon options...]
// Starts a daemon (detached: its own session; env-i: through env -i, with no environment at all;
// child: in the worker's process group), waits until it is set up, prints its pid and the worker's,
// then exits with <exit code> at the first line on stdin (child: never).
const { spawn } = require('node:child_process');
const [mode, mark, code, ...options] = process.argv.slice(2);
const daemonArgv = [process.execPath, require('node:path').join(__dirname, 'daemon.cjs'), mark, ...options];
const argv = mode === 'env-i' ? ['env', '-i', ...daemonArgv] : daemonArgv;
const daemon = spawn(argv[0], argv.slice(1), { detached: mode !== 'child', stdio: ['ignore', 'pipe', 'inherit'] });
let said = '';
daemon.stdout.on('data', (chunk) => {
  said += chunk;
  if (!said.includes('ready')) return;
  daemon.stdout.destroy();
  daemon.unref();
  process.stdout.write('daemon ' + daemon.pid + ' worker ' + process.pid + '\\n');
  if (mode === 'child') setInterval(() => {}, 1 << 30);
  else process.stdin.once('data', () => process.exit(Number(code)));
});
`;

const PARENT = `
// node parent.cjs <container> <grace_ms> <argv...>: starts the container as a supervisor does (its
// own process group, no report), passes on what its worker prints, and runs until killed.
const { spawn } = require('node:child_process');
const [container, grace, ...argv] = process.argv.slice(2);
const child = spawn(container, [grace, '-1', String(process.pid), '--', ...argv], { detached: true, stdio: ['pipe', 'pipe', 'inherit'] });
child.stdout.on('data', (chunk) => process.stdout.write(chunk));
process.stdout.write('container ' + child.pid + '\\n');
setInterval(() => {}, 1 << 30);
`;

const ECHO = `
// node echo.cjs: copies stdin to stdout after a prefix, with a megabyte after it; the input's length to stderr.
const chunks = [];
process.stdin.on('data', (chunk) => chunks.push(chunk));
process.stdin.on('end', () => {
  const input = Buffer.concat(chunks);
  process.stdout.write(Buffer.concat([Buffer.from('out:'), input, Buffer.alloc(1 << 20, 'x')]));
  process.stderr.write('err:' + input.length + '\\n');
});
`;

beforeAll(() => {
  if (!existsSync(binary)) spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs')], { cwd: root, stdio: 'inherit' });
  expect(containerPath()).toBe(binary);
  dir = mkdtempSync(join(tmpdir(), 'kanban-contain-'));
  writeFileSync(join(dir, 'daemon.cjs'), DAEMON);
  writeFileSync(join(dir, 'worker.cjs'), WORKER);
  writeFileSync(join(dir, 'echo.cjs'), ECHO);
  writeFileSync(join(dir, 'parent.cjs'), PARENT);
  copy = join(dir, 'kanban-contain');
  copyFileSync(binary, copy);
  chmodSync(copy, 0o755);
  nodeComm = spawnSync(process.execPath, ['-e', "process.stdout.write(require('fs').readFileSync('/proc/self/comm', 'utf8').trim())"], { encoding: 'utf8' }).stdout;
});

afterEach(() => {
  // A failed test leaves nothing running either.
  for (const mark of marks.splice(0)) for (const pid of markedProcesses(mark)) kill(pid, 'SIGKILL');
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function newMark(): string {
  const mark = `contain-${randomUUID()}`;
  marks.push(mark);
  return mark;
}

/** The live processes carrying the marker, in their environment or as an argument. */
function markedProcesses(mark: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    for (const file of ['environ', 'cmdline']) {
      let entries: string[];
      try {
        entries = readFileSync(`/proc/${name}/${file}`, 'latin1').split('\0');
      } catch {
        continue; // gone
      }
      if (entries.includes(`${MARK}=${mark}`) || entries.includes(mark)) {
        pids.push(Number(name));
        break;
      }
    }
  }
  return pids;
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone
  }
}

/** ppid, session and name of a live process; null once it is gone. */
function stat(pid: number): { ppid: number; session: number; comm: string; state: string } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  return { comm: text.slice(text.indexOf('(') + 1, close), state: fields[0]!, ppid: Number(fields[1]), session: Number(fields[3]) };
}

async function waitFor<T>(what: string, probe: () => T | null | undefined | false, timeoutMs = DEADLINE_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== null && value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: Buffer;
  /** The report but its `member` lines (what the container stopped, or why it could not start). */
  report: string;
  /** The processes it reported as the run's while the worker ran. */
  members: Member[];
}

interface Contained {
  child: ChildProcess;
  stdout(): string;
  ended: Promise<Ended>;
}

/** Runs argv in the container as the supervisor would: its own process group, fd 3 the report. */
function contain(argv: string[], mark: string, options: { graceMs?: number; reportFd?: number } = {}): Contained {
  const reportFd = options.reportFd ?? 3;
  const [file, ...args] = containedArgv(argv, options.graceMs ?? GRACE_MS, reportFd);
  expect(file).toBe(binary);
  const child = spawn(copy, args, {
    detached: true,
    stdio: reportFd === 3 ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, [MARK]: mark },
  });
  child.stdin!.on('error', () => {}); // a worker that is gone does not read
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const report: Buffer[] = [];
  child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr!.on('data', (chunk: Buffer) => err.push(chunk));
  if (reportFd === 3) (child.stdio[3] as Readable).on('data', (chunk: Buffer) => report.push(chunk));
  const ended = new Promise<Ended>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const text = Buffer.concat(report).toString();
      const rest = text.split('\n').filter((line) => !line.startsWith('member ')).join('\n');
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err), report: rest, members: parseMembers(text) });
    });
  });
  return { child, stdout: () => Buffer.concat(out).toString(), ended };
}

/** The pids the worker prints once its daemon is set up. */
async function daemonOf(run: Contained): Promise<{ daemon: number; worker: number }> {
  const match = await waitFor('the worker to start its daemon', () => /daemon (\d+) worker (\d+)/.exec(run.stdout()));
  return { daemon: Number(match[1]), worker: Number(match[2]) };
}

async function endOf(run: Contained): Promise<Ended> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the container did not exit within ${DEADLINE_MS} ms`)), DEADLINE_MS);
  });
  try {
    return await Promise.race([run.ended, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const node = process.execPath;
const fixture = (name: string) => join(dir, name);

describe.skipIf(process.platform !== 'linux')('the process container', { timeout: 60_000 }, () => {
  it('stops a daemon the worker started in its own session, once the worker has exited 0, and reports it', async () => {
    const mark = newMark();
    const run = contain([node, fixture('worker.cjs'), 'daemon', mark, '0'], mark);
    const { daemon } = await daemonOf(run);
    expect(stat(daemon)!.session).toBe(daemon); // it left the container's session and group
    run.child.stdin!.write('go\n');
    const end = await endOf(run);
    expect(end).toMatchObject({ code: 0, signal: null });
    expect(parseKillReport(end.report)).toEqual([{ pid: daemon, name: nodeComm, signal: 'SIGTERM' }]);
    expect(markedProcesses(mark)).toEqual([]);
  });

  it('reports each of the run’s processes as it first sees them (member pid start), daemons in their own session too', async () => {
    const mark = newMark();
    const run = contain([node, fixture('worker.cjs'), 'daemon', mark, '0'], mark);
    const { daemon, worker } = await daemonOf(run);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // it looks twice a second
    run.child.stdin!.write('go\n');
    const end = await endOf(run);
    const pids = end.members.map((m) => m.pid);
    expect(pids).toContain(worker);
    expect(pids).toContain(daemon);
    expect(new Set(pids).size).toBe(pids.length); // each once
  });

  it('stops `setsid sleep` started from a shell', async () => {
    const mark = newMark();
    const script = 'setsid sleep 1000 & pid=$!; until [ "$(cat /proc/$pid/comm)" = sleep ]; do sleep 0.05; done; echo "daemon $pid worker $$"; exit 0';
    const run = contain(['/bin/sh', '-c', script], mark);
    const end = await endOf(run);
    const { daemon } = await daemonOf(run);
    expect(end).toMatchObject({ code: 0, signal: null });
    expect(parseKillReport(end.report)).toEqual([{ pid: daemon, name: 'sleep', signal: 'SIGTERM' }]);
    expect(end.stderr.toString()).toBe('');
    expect(markedProcesses(mark)).toEqual([]);
  });

  it('kills a daemon that ignores SIGTERM with SIGKILL after the grace, and reports SIGKILL', async () => {
    const mark = newMark();
    const run = contain([node, fixture('worker.cjs'), 'daemon', mark, '0', 'ignore-term'], mark);
    const { daemon } = await daemonOf(run);
    run.child.stdin!.write('go\n');
    const end = await endOf(run);
    expect(end).toMatchObject({ code: 0, signal: null });
    expect(parseKillReport(end.report)).toEqual([{ pid: daemon, name: nodeComm, signal: 'SIGKILL' }]);
    expect(markedProcesses(mark)).toEqual([]);
  });

  it('finds a daemon started with no environment at all (env -i): by its parents, not its environment', async () => {
    const mark = newMark();
    const run = contain([node, fixture('worker.cjs'), 'env-i', mark, '0'], mark);
    const { daemon } = await daemonOf(run);
    expect(readFileSync(`/proc/${daemon}/environ`, 'latin1')).toBe('');
    run.child.stdin!.write('go\n');
    const end = await endOf(run);
    expect(end).toMatchObject({ code: 0, signal: null });
    expect(parseKillReport(end.report)).toEqual([{ pid: daemon, name: nodeComm, signal: 'SIGTERM' }]);
    expect(markedProcesses(mark)).toEqual([]);
  });

  it('adopts a double-forked grandchild (its parent gone) and stops it', async () => {
    const mark = newMark();
    const script = '( setsid sleep 1000 & echo "daemon $! worker $$" ); read go; exit 0';
    const run = contain(['/bin/sh', '-c', script], mark);
    const { daemon } = await daemonOf(run);
    // Orphaned, it is re-parented to the container (the inner one, the nearest subreaper), not to init.
    await waitFor('the grandchild to be adopted by the container', () => {
      const now = stat(daemon);
      const adopter = now && stat(now.ppid);
      return now !== null && now.comm === 'sleep' && adopter?.comm === 'kanban-contain' && adopter.ppid === run.child.pid;
    });
    run.child.stdin!.write('go\n');
    const end = await endOf(run);
    expect(end).toMatchObject({ code: 0, signal: null });
    expect(parseKillReport(end.report)).toEqual([{ pid: daemon, name: 'sleep', signal: 'SIGTERM' }]);
    expect(markedProcesses(mark)).toEqual([]);
  });

  it('stops many processes left behind at once', async () => {
    const mark = newMark();
    const script = 'i=0; while [ $i -lt 40 ]; do setsid sleep 1000 & i=$((i+1)); done; echo started; exit 0';
    const run = contain(['/bin/sh', '-c', script], mark);
    const end = await endOf(run);
    expect(end).toMatchObject({ code: 0, signal: null });
    const stopped = parseKillReport(end.report);
    expect(stopped).toHaveLength(40);
    expect(new Set(stopped.map((p) => p.signal))).toEqual(new Set(['SIGTERM']));
    expect(markedProcesses(mark)).toEqual([]);
  });

  it('stops a process a daemon starts while it is being stopped', async () => {
    const mark = newMark();
    const run = contain([node, fixture('worker.cjs'), 'daemon', mark, '0', 'respawn-on-term'], mark);
    const { daemon } = await daemonOf(run);
    run.child.stdin!.write('go\n');
    const end = await endOf(run);
    expect(end).toMatchObject({ code: 0, signal: null });
    const stopped = parseKillReport(end.report);
    // The daemon, and the one it started when told to stop (found, and told, before or after its parent ended).
    expect(stopped).toHaveLength(2);
    expect(stopped).toContainEqual({ pid: daemon, name: nodeComm, signal: 'SIGTERM' });
    expect(markedProcesses(mark)).toEqual([]);
  });

  it("exits with the worker's exit code, after stopping what it left", async () => {
    const mark = newMark();
    const run = contain([node, fixture('worker.cjs'), 'daemon', mark, '3'], mark);
    const { daemon } = await daemonOf(run);
    run.child.stdin!.write('go\n');
    const end = await endOf(run);
    expect(end).toMatchObject({ code: 3, signal: null });
    expect(parseKillReport(end.report).map((p) => p.pid)).toEqual([daemon]);
    expect(markedProcesses(mark)).toEqual([]);

    const plain = await endOf(contain(['/bin/sh', '-c', 'exit 3'], newMark()));
    expect(plain).toMatchObject({ code: 3, signal: null, report: '' });
    expect(plain.stderr.toString()).toBe('');
  });

  it('dies of the signal that killed the worker', async () => {
    const segv = await endOf(contain(['/bin/sh', '-c', 'ulimit -c 0; kill -SEGV $$'], newMark()));
    expect(segv).toMatchObject({ code: null, signal: 'SIGSEGV', report: '' });
    expect(segv.stderr.toString()).toBe('');
    const killed = await endOf(contain(['/bin/sh', '-c', 'kill -KILL $$'], newMark()));
    expect(killed).toMatchObject({ code: null, signal: 'SIGKILL', report: '' });
  });

  it('on SIGTERM to its process group, stops everything, a child that ignores SIGTERM by SIGKILL after the grace', async () => {
    const mark = newMark();
    const run = contain([node, fixture('worker.cjs'), 'child', mark, '0', 'ignore-term'], mark);
    const { daemon: child, worker } = await daemonOf(run);
    process.kill(-run.child.pid!, 'SIGTERM');
    const end = await endOf(run);
    expect(end).toMatchObject({ code: null, signal: 'SIGTERM' });
    // The worker got the group's SIGTERM too: it may be gone before the container signals it (then
    // it was not the container that stopped it, and it is not reported).
    const stopped = parseKillReport(end.report);
    expect(stopped).toContainEqual({ pid: child, name: nodeComm, signal: 'SIGKILL' });
    expect(stopped.filter((p) => p.pid !== child)).toEqual(stopped.some((p) => p.pid === worker) ? [{ pid: worker, name: nodeComm, signal: 'SIGTERM' }] : []);
    expect(markedProcesses(mark)).toEqual([]);
  });

  it('forwards SIGTERM or SIGINT sent to the container alone to the whole tree, daemons too', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const mark = newMark();
      const run = contain([node, fixture('worker.cjs'), 'daemon', mark, '0'], mark);
      const { daemon, worker } = await daemonOf(run);
      process.kill(run.child.pid!, signal);
      const end = await endOf(run);
      expect(end).toMatchObject({ code: null, signal });
      expect(parseKillReport(end.report)).toEqual(
        expect.arrayContaining([
          { pid: worker, name: nodeComm, signal },
          { pid: daemon, name: nodeComm, signal },
        ]),
      );
      expect(markedProcesses(mark)).toEqual([]);
    }
  });

  it('survives any other signal sent to its process group, and ends as the worker does after stopping what it left', async () => {
    const mark = newMark();
    const script = 'setsid sleep 1000 & pid=$!; until [ "$(cat /proc/$pid/comm)" = sleep ]; do sleep 0.05; done; echo "daemon $pid worker $$"; exec sleep 999';
    const run = contain(['/bin/sh', '-c', script], mark);
    const { daemon } = await daemonOf(run);
    process.kill(-run.child.pid!, 'SIGUSR1'); // kills the worker, not the daemon in its own session
    const end = await endOf(run);
    expect(end).toMatchObject({ code: null, signal: 'SIGUSR1' });
    expect(parseKillReport(end.report)).toEqual([{ pid: daemon, name: 'sleep', signal: 'SIGTERM' }]);
    expect(markedProcesses(mark)).toEqual([]);
  });

  it('passes stdin through to the worker and its stdout and stderr through unchanged, adding nothing', async () => {
    const input = randomBytes(300_000);
    const run = contain([node, fixture('echo.cjs')], newMark());
    run.child.stdin!.end(input);
    const end = await endOf(run);
    expect(end).toMatchObject({ code: 0, signal: null, report: '' });
    expect(end.stdout.equals(Buffer.concat([Buffer.from('out:'), input, Buffer.alloc(1 << 20, 'x')]))).toBe(true);
    expect(end.stderr.toString()).toBe(`err:${input.length}\n`);
  });

  it('exits 127 with a message on stderr for a program that does not exist, 126 for one that cannot run', async () => {
    const missing = await endOf(contain(['kanban-no-such-program-here', 'arg'], newMark()));
    expect(missing).toMatchObject({ code: 127, signal: null });
    expect(missing.stdout.toString()).toBe('');
    expect(missing.stderr.toString()).toMatch(/^kanban-contain: cannot run kanban-no-such-program-here: No such file or directory\n$/);
    expect(parseExecFailure(missing.report)).toBe('ENOENT');

    const notExecutable = join(dir, 'not-executable');
    writeFileSync(notExecutable, '#!/bin/sh\n');
    chmodSync(notExecutable, 0o644);
    const denied = await endOf(contain([notExecutable], newMark()));
    expect(denied).toMatchObject({ code: 126, signal: null });
    expect(denied.stderr.toString()).toContain(notExecutable);
    expect(parseExecFailure(denied.report)).toBe('EACCES');
  });

  it('ends with the process that started it: that one SIGKILLed, the worker and the daemon it left are stopped', async () => {
    const mark = newMark();
    const parent = spawn(node, [join(dir, 'parent.cjs'), copy, String(GRACE_MS), node, fixture('worker.cjs'), 'daemon', mark, '0'], {
      env: { ...process.env, [MARK]: mark },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let said = '';
    parent.stdout!.on('data', (chunk: Buffer) => (said += chunk));
    const [, container, daemon, worker] = (await waitFor('the daemon to be set up', () => /container (\d+)\n[^]*daemon (\d+) worker (\d+)/.exec(said))).map(Number);
    expect([container, worker, daemon].map((pid) => stat(pid!) !== null)).toEqual([true, true, true]);
    // The worker waits for a line on stdin that never comes: without its parent it would run on.
    kill(parent.pid!, 'SIGKILL');
    await waitFor('the container, the worker and the daemon to be gone', () => markedProcesses(mark).length === 0 && stat(container!) === null);
  });

  it('SIGKILLed a moment after its worker started a daemon with an empty environment (before any member line could name it): the daemon is stopped all the same', async () => {
    const mark = newMark();
    // The daemon carries the mark in its argv only; the worker waits on stdin, so the container is
    // killed while both live. No supervisor is there to clean up after it: the container alone must.
    const script = `env -i setsid sh -c 'sleep 1000; :' ${mark} & echo "daemon $! worker $$"; read go`;
    const run = contain(['/bin/sh', '-c', script], mark, { reportFd: -1 });
    const { daemon } = await daemonOf(run);
    await waitFor('the daemon to be up', () => markedProcesses(mark).includes(daemon));
    kill(run.child.pid!, 'SIGKILL');
    expect((await endOf(run)).signal).toBe('SIGKILL');
    await waitFor('the daemon and the worker to be gone', () => stat(daemon) === null && markedProcesses(mark).length === 0);
  });

  it('its inner half SIGKILLed: the outer one stops what it adopted, reports it, and dies of SIGKILL', async () => {
    const mark = newMark();
    const script = `env -i setsid sh -c 'sleep 1000; :' ${mark} & echo "daemon $! worker $$"; read go`;
    const run = contain(['/bin/sh', '-c', script], mark);
    const { daemon, worker } = await daemonOf(run);
    await waitFor('the daemon to be up', () => markedProcesses(mark).includes(daemon));
    const inner = stat(worker)!.ppid;
    expect(stat(inner)).toMatchObject({ comm: 'kanban-contain', ppid: run.child.pid });
    kill(inner, 'SIGKILL');
    const end = await endOf(run);
    expect(end.signal).toBe('SIGKILL');
    // The worker dies with the inner half (its parent-death signal); the daemon, adopted, is stopped.
    expect(parseKillReport(end.report).map((p) => p.pid)).toContain(daemon);
    expect(parseKillReport(end.report).map((p) => p.pid)).not.toContain(inner);
    await waitFor('the daemon and the worker to be gone', () => markedProcesses(mark).length === 0);
  });

  it('does not start the command when the process that started it is already gone', () => {
    const mark = newMark();
    // Its parent is this test; it is told that was pid 1, as a container re-parented before it started would see.
    const started = spawnSync(copy, [String(GRACE_MS), '-1', '1', '--', node, '-e', "console.log('started')"], { encoding: 'utf8', env: { ...process.env, [MARK]: mark } });
    expect(started).toMatchObject({ status: 125, stdout: '' });
    expect(started.stderr).toBe('kanban-contain: the process that started it is gone: not starting the command\n');
    const usage = spawnSync(copy, [String(GRACE_MS), '-1', '--', node, '-e', "console.log('started')"], { encoding: 'utf8' });
    expect(usage).toMatchObject({ status: 125, stdout: '' });
    expect(usage.stderr).toMatch(/^kanban-contain: usage: kanban-contain <grace_ms> <report_fd> <parent_pid> -- /);
  });

  it('signals nothing outside its tree, and works without a report descriptor', async () => {
    const mark = newMark();
    const stranger = spawn('sleep', ['1000'], { env: { ...process.env, [MARK]: mark }, stdio: 'ignore' });
    try {
      const run = contain([node, fixture('worker.cjs'), 'daemon', mark, '0'], mark, { reportFd: -1 });
      const { daemon } = await daemonOf(run);
      run.child.stdin!.write('go\n');
      const end = await endOf(run);
      expect(end).toMatchObject({ code: 0, signal: null });
      expect(stat(daemon)).toBeNull();
      expect(markedProcesses(mark)).toEqual([stranger.pid]);
      expect(stranger.exitCode).toBeNull();
      expect(stranger.signalCode).toBeNull();
    } finally {
      stranger.kill('SIGKILL');
    }
  });
});

describe('containedArgv and the report', () => {
  it('wraps argv in the container when there is one, else leaves it as it is', () => {
    const container = containerPath();
    const argv = ['claude', '-p', 'a prompt; with $(shell) `text`'];
    expect(containedArgv(argv, 4000.4, 3)).toEqual(container === null ? argv : [container, '4000', '3', String(process.pid), '--', ...argv]);
    expect(() => containedArgv(argv, -1, 3)).toThrow(RangeError);
    expect(() => containedArgv(argv, 100, 1)).toThrow(RangeError);
  });

  it('reads one entry per process, the last signal it was sent, and ignores anything else', () => {
    const text = 'killed 12 sleep SIGTERM\nwarning no-subreaper\nkilled 13 no?de SIGTERM\nkilled 12 sleep SIGKILL\nkilled x y SIGTERM\nexec-failed ENOENT\n';
    expect(parseKillReport(text)).toEqual([
      { pid: 12, name: 'sleep', signal: 'SIGKILL' },
      { pid: 13, name: 'no?de', signal: 'SIGTERM' },
    ]);
    expect(parseKillReport('')).toEqual([]);
    expect(parseExecFailure(text)).toBe('ENOENT');
    expect(parseExecFailure('killed 12 sleep SIGTERM\n')).toBeNull();
  });
});
