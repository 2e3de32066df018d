import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';
import { kanbanBin } from './launch.js';
import type { Member } from '../dispatcher/processes.js';

/**
 * The process container (native/contain.c, built by scripts/build-native.mjs) runs a worker as its
 * child and, being the children's subreaper, also adopts every process the worker orphans: daemons
 * that called setsid, double forks, processes that cleared their environment. When the worker exits
 * (or the container gets SIGTERM, SIGINT or SIGHUP, or the process that started it dies) it stops all of them, SIGTERM then SIGKILL after
 * a grace, and exits as the worker did. This module finds it and builds the argv that uses it.
 */

let cached: string | null | undefined;

/**
 * The container of this installation (`dist/native/kanban-contain` beside `bin/kanban.js`), or null
 * when there is none to use: not built (no C compiler), not executable, or failing its `--check` (not
 * Linux, a kernel without PR_SET_CHILD_SUBREAPER, no /proc, a binary built for another machine).
 * Looked up once per process.
 */
export function containerPath(): string | null {
  if (cached === undefined) cached = findContainer();
  return cached;
}

function findContainer(): string | null {
  if (process.platform !== 'linux') return null;
  let path: string;
  try {
    path = join(dirname(dirname(kanbanBin())), 'dist', 'native', 'kanban-contain');
    accessSync(path, constants.X_OK);
  } catch {
    return null;
  }
  const check = spawnSync(path, ['--check'], { stdio: 'ignore', timeout: 10_000 });
  return check.status === 0 ? path : null;
}

/**
 * The argv that runs `argv` inside the container, which gives the processes left behind `graceMs`
 * between SIGTERM and SIGKILL and writes a line per process it stopped to its descriptor `reportFd`
 * (3 or above; -1 for none; see parseKillReport). The container ends with this process: should it
 * die (SIGKILL, the OOM killer), the container stops the run as on SIGTERM, so that no worker runs
 * on with nobody to hold its lease or record its end. Without a container, `argv` unchanged.
 */
export function containedArgv(argv: readonly string[], graceMs: number, reportFd: number): string[] {
  if (!Number.isFinite(graceMs) || graceMs < 0) throw new RangeError(`grace must be a number of milliseconds, not ${graceMs}`);
  if (!Number.isInteger(reportFd) || (reportFd < 3 && reportFd !== -1)) throw new RangeError(`the report descriptor must be 3 or above, or -1, not ${reportFd}`);
  const container = containerPath();
  if (container === null || argv.length === 0) return [...argv];
  return [container, String(Math.round(graceMs)), String(reportFd), String(process.pid), '--', ...argv];
}

/** A process the container stopped: its pid, its name (/proc comm) and the last signal it was sent. */
export interface StoppedProcess {
  pid: number;
  name: string;
  signal: string;
}

/**
 * The processes named by the container's report (`killed <pid> <comm> <signal>` lines), one per pid
 * (the last word on it), in the order they were first reported. Other lines are ignored.
 */
export function parseKillReport(text: string): StoppedProcess[] {
  const stopped = new Map<number, StoppedProcess>();
  for (const line of text.split('\n')) {
    const match = /^killed (\d+) (\S+) (SIG[A-Z0-9]+)$/.exec(line);
    if (match) stopped.set(Number(match[1]), { pid: Number(match[1]), name: match[2]!, signal: match[3]! });
  }
  return [...stopped.values()];
}

/** The processes the container saw as the run's while it ran (`member <pid> <start>` lines). */
export function parseMembers(text: string): Member[] {
  const members: Member[] = [];
  for (const line of text.split('\n')) {
    const match = /^member (\d+) (\d+)$/.exec(line);
    if (match) members.push({ pid: Number(match[1]), start: match[2]! });
  }
  return members;
}

/**
 * Why the container could not start the worker (`ENOENT`, `EACCES`, …), from its report; null when it
 * did start. The container then exits 127 (not found) or 126, as a shell does; this tells a missing
 * program (the config's fault) from a worker that itself exits 127.
 */
export function parseExecFailure(text: string): string | null {
  return /^exec-failed ([A-Z0-9]+)$/m.exec(text)?.[1] ?? null;
}
