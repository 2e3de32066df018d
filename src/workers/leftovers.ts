import { leftoversOfRun, nameOf, type Member, type RunProcess } from '../dispatcher/processes.js';
import { signalProcess } from '../signals.js';
import type { StoppedProcess } from './contain.js';
import { monotonicMs } from '../clock.js';

const POLL_MS = 100;

/**
 * Stops what a run left behind once its worker has ended. Normally nothing is left: the container
 * stops every descendant before it exits. Something is left when the container itself was killed
 * (SIGKILL, the OOM killer), or when this machine has no container: every process still in the
 * worker's process group (`group`), carrying the run's identity, or reported by the container as the
 * run's (`members`, still the same processes) gets SIGTERM (and SIGCONT, should it
 * be stopped), and SIGKILL `graceMs` later. Resolves once none is left (SIGKILL is waited for a
 * second at most), with what it stopped.
 */
export async function stopLeftovers(run: RunProcess, group: number, graceMs: number, members: () => readonly Member[] = () => []): Promise<StoppedProcess[]> {
  const stopped = new Map<number, StoppedProcess>();
  const signal = (pids: number[], name: 'SIGTERM' | 'SIGKILL') => {
    for (const pid of pids) {
      const known = stopped.get(pid);
      if (known?.signal === name) continue;
      signalProcess(pid, name);
      if (name === 'SIGTERM') signalProcess(pid, 'SIGCONT');
      stopped.set(pid, { pid, name: known?.name ?? nameOf(pid), signal: name });
    }
  };
  const deadline = monotonicMs() + graceMs;
  const known = members();
  let left = leftoversOfRun(run, group, known);
  while (left.length > 0 && monotonicMs() < deadline) {
    signal(left, 'SIGTERM'); // again for any it started meanwhile
    await sleep(POLL_MS);
    left = leftoversOfRun(run, group, known);
  }
  const killDeadline = monotonicMs() + 1000;
  while (left.length > 0 && monotonicMs() < killDeadline) {
    signal(left, 'SIGKILL');
    await sleep(POLL_MS / 5);
    left = leftoversOfRun(run, group, known);
  }
  return [...stopped.values()];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
