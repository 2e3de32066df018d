import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { signalGroup } from '../signals.js';
import { monotonicMs } from '../clock.js';

export interface RunProcess {
  taskId: string;
  runId: number;
}

/**
 * Whether `pid` is still a process of this run: alive, and (where /proc can tell) started with this
 * run's KANBAN_TASK and KANBAN_RUN_ID, so that a pid reused by an unrelated process is never taken for
 * a worker, and never signalled.
 */
export function isRunProcess(pid: number | null, run: RunProcess): boolean {
  if (pid === null || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const environ = environOf(pid);
  if (environ === null) return true; // no /proc here (or not ours to read): the signal check is all there is
  return runIdentity(run).every((entry) => environ.has(entry));
}

/** The environment a process started with (`NAME=value` entries), or null when /proc cannot tell. */
function environOf(pid: number | string): Set<string> | null {
  try {
    return new Set(readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0'));
  } catch {
    return null; // gone, not ours to read, or no /proc
  }
}

/** The entries every process started for a run carries in its environment. */
function runIdentity(run: RunProcess): string[] {
  return [`KANBAN_TASK=${run.taskId}`, `KANBAN_RUN_ID=${run.runId}`];
}

/** The pids in /proc (as its entry names), but this process's; none where there is no /proc. */
function otherProcesses(): string[] {
  try {
    return readdirSync('/proc').filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid);
  } catch {
    return [];
  }
}

/** Whether the environment `environ` (null: unknown) has every one of `entries`. */
function hasAll(environ: Set<string> | null, entries: readonly string[]): boolean {
  return environ !== null && entries.every((entry) => environ.has(entry));
}

/** Every process but this one whose environment has all of `entries` (Linux /proc; elsewhere none). */
export function processesWith(entries: readonly string[]): number[] {
  return otherProcesses()
    .filter((name) => hasAll(environOf(name), entries))
    .map(Number);
}

/**
 * Every process but this one that has one of `paths` open (absolute, symbolic links resolved), by
 * its /proc/<pid>/fd links: a dispatcher, a board, a supervisor on that board file. Linux; elsewhere,
 * and for processes not ours to read, none.
 */
export function processesWithOpen(paths: readonly string[]): number[] {
  const wanted = new Set(paths);
  return otherProcesses()
    .filter((name) => {
      let descriptors: string[];
      try {
        descriptors = readdirSync(`/proc/${name}/fd`);
      } catch {
        return false; // gone, or not ours to read
      }
      return descriptors.some((fd) => {
        try {
          return wanted.has(readlinkSync(`/proc/${name}/fd/${fd}`));
        } catch {
          return false;
        }
      });
    })
    .map(Number);
}

/**
 * The fields of /proc/<pid>/stat after the name (state first: [2] is the process group, [19] the
 * start time in clock ticks since boot, as the container reports it), or null when it is gone or a zombie.
 */
function statOf(pid: number | string): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // pid (comm) state ppid pgrp …: comm may hold spaces and parentheses, so read after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? null : fields;
  } catch {
    return null;
  }
}


/** A process the container reported as one of the run's (`member <pid> <start>`). */
export interface Member {
  pid: number;
  start: string;
}

/** A process's name (/proc/<pid>/comm), or '?' once it is gone. */
export function nameOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'latin1').trim() || '?';
  } catch {
    return '?';
  }
}

/**
 * What is left of a run once its worker has ended: every process but this one still in the worker's
 * process group (`group`, whose leader is gone), carrying the run's identity in its environment, or
 * one the container reported as the run's (`members`: a daemon that left the group and cleared its
 * environment) and still the same process (its start time). Linux /proc; elsewhere none.
 */
export function leftoversOfRun(run: RunProcess, group: number, members: readonly Member[] = []): number[] {
  const identity = runIdentity(run);
  const memberStarts = new Map(members.map((m) => [String(m.pid), m.start]));
  return otherProcesses()
    .filter((name) => {
      const stat = statOf(name); // one read for the group and the start time
      return (stat !== null && (Number(stat[2]) === group || memberStarts.get(name) === stat[19])) || hasAll(environOf(name), identity);
    })
    .map(Number)
    .sort((a, b) => a - b);
}

/**
 * Every process but this one that carries a run identity, by `<task id>:<run id>` (one /proc scan;
 * elsewhere none).
 */
export function processesByRun(): Map<string, number[]> {
  const byRun = new Map<string, number[]>();
  for (const name of otherProcesses()) {
    const environ = environOf(name);
    if (environ === null) continue;
    let task: string | undefined;
    let run: string | undefined;
    for (const entry of environ) {
      if (entry.startsWith('KANBAN_TASK=')) task = entry.slice(12);
      else if (entry.startsWith('KANBAN_RUN_ID=')) run = entry.slice(14);
    }
    if (task === undefined || run === undefined) continue;
    const key = `${task}:${run}`;
    byRun.set(key, [...(byRun.get(key) ?? []), Number(name)]);
  }
  return byRun;
}

/**
 * Every process started for a run, found by the identity in its environment (Linux /proc; elsewhere
 * none): for a worker whose pid was never recorded, because its supervisor died between starting it
 * and writing it down. Its children inherit the identity, so they are found too.
 */
export function processesOfRun(run: RunProcess): number[] {
  return processesWith(runIdentity(run));
}

/**
 * Stops what is left of a run that has been closed: its worker's process group when the pid is
 * known, else every process carrying the run's identity (but `spare`, a supervisor still alive,
 * which will record the exit).
 */
export function stopRunProcesses(killer: Killer, run: RunProcess & { workerPid: number | null; spare?: number | null }): void {
  if (isRunProcess(run.workerPid, run)) {
    killer.terminate(run.workerPid!, run);
    return;
  }
  for (const pid of processesOfRun(run)) if (pid !== run.spare) killer.terminate(pid, run);
}

/** How often a dispatcher looks for what ended runs left behind by their identity. */
export const SWEEP_EVERY_MS = 10_000;

/**
 * SIGTERM to a process group now; SIGKILL after the grace if it is still the run's. The grace is
 * twice the worker container's (which stops the whole tree, daemons included, 5 s after SIGTERM):
 * a SIGKILL to the group before it is done would kill the container and let daemons escape.
 */
export class Killer {
  private readonly pending = new Set<Promise<void>>();
  private lastSweep = -Infinity;

  constructor(private readonly graceMs = 10_000) {}

  /**
   * Whether a sweep of /proc for leftovers of ended runs is due: at most one per SWEEP_EVERY_MS
   * (monotonic) for this dispatcher, since it reads every process's environment.
   */
  sweepDue(): boolean {
    const now = monotonicMs();
    if (now - this.lastSweep < SWEEP_EVERY_MS) return false;
    this.lastSweep = now;
    return true;
  }

  terminate(pid: number, run: RunProcess): void {
    signalGroup(pid, 'SIGTERM');
    const escalation = new Promise<void>((resolve) => {
      const deadline = Date.now() + this.graceMs;
      const check = () => {
        if (!isRunProcess(pid, run)) return resolve();
        if (Date.now() >= deadline) {
          signalGroup(pid, 'SIGKILL');
          return resolve();
        }
        setTimeout(check, 100);
      };
      setTimeout(check, 100);
    });
    this.pending.add(escalation);
    void escalation.then(() => this.pending.delete(escalation));
  }

  /** For one-shot commands: wait until every process being stopped has stopped (at most the grace). */
  async settle(): Promise<void> {
    await Promise.all(this.pending);
  }
}
