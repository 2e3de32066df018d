import { readdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { containerPath } from '../../src/workers/contain.js';
import { createTask, getTask } from '../../src/store/tasks.js';
import { kanban } from '../helpers/cli.js';
import { claimAndStart, eventsOf, runEnded, taskLog, waitFor, worker, workerBoard } from '../helpers/workers.js';
import { runById } from '../../src/store/runs.js';

/**
 * Every process of a run ends with the run: workers that leave daemons behind (setsid, an empty
 * environment) or a child that ignores SIGTERM, run by a real supervisor in the real container.
 */
/** Processes whose argv has `marker` (and an argument containing `also`, when given). */
function processesWith(marker: string, also?: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const args = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0');
        return args.includes(marker) && (also === undefined || args.some((a) => a.includes(also)));
      } catch {
        return false;
      }
    })
    .map(Number);
}

const killedEvent = (board: Parameters<typeof eventsOf>[0], taskId: string) =>
  eventsOf(board, taskId, 'worker_killed').map((e) => e.payload as { reason: string; processes: Array<{ pid: number; name: string; signal: string }> });

describe.skipIf(containerPath() === null)('a worker that leaves processes behind', () => {
  const cases: Array<[string, string, string]> = [
    ['a setsid daemon, then completes', 'daemon-complete', 'completed'],
    ['a setsid daemon, then crashes', 'daemon-crash', 'crashed'],
    ['a daemon with an empty environment, then exits 0', 'daemon-noenv', 'protocol_violation'],
  ];
  for (const [what, kind, outcome] of cases) {
    it(`${what}: the run ends ${outcome}, and the daemon is stopped and named in worker_killed`, async () => {
      const marker = `kanban-escape-${randomBytes(4).toString('hex')}`;
      const board = workerBoard({ escape: { command: worker('escape', kind, marker) } });
      const { task } = createTask(board.store, { title: what, assignee: 'escape' });
      const identity = claimAndStart(board, task.id, 600);
      const run = await runEnded(board, identity, 30_000);
      expect(run.outcome).toBe(outcome);
      expect(processesWith(marker)).toEqual([]); // the supervisor records the exit once the container has stopped everything
      const [event] = killedEvent(board, task.id);
      // On a loaded machine the worker can exit before the daemon has exec'd node: it is then caught
      // as `setsid`, or as a fork not yet exec'd (named after its parent, node), one or two of them.
      expect(event?.reason).toBe('still running when the worker ended');
      expect(event?.processes.length).toBeGreaterThanOrEqual(1);
      for (const stopped of event!.processes) expect(stopped).toMatchObject({ name: expect.stringMatching(/^(node|setsid)$/), signal: 'SIGTERM' });
      expect(taskLog(board, task.id)).toMatch(/still running when the worker ended: \d+ (node|setsid) \(SIGTERM\)/);
    }, 60_000);
  }

  /** A run of a worker hanging with a child that ignores SIGTERM, once both say they are up. */
  async function stubbornRun(title: string) {
    const marker = `kanban-escape-${randomBytes(4).toString('hex')}`;
    const board = workerBoard({ escape: { command: worker('escape', 'term-ignorer', marker) } });
    const { task } = createTask(board.store, { title, assignee: 'escape' });
    const identity = claimAndStart(board, task.id, 600);
    await waitFor('the worker and its child', () => /hanging with a child[^]*child ignores SIGTERM|child ignores SIGTERM[^]*hanging with a child/.test(taskLog(board, task.id)));
    return { marker, board, task, identity };
  }

  it('a child that ignores SIGTERM while its leader dies on it: reclaim stops both, the child by SIGKILL', async () => {
    const { marker, board, task, identity } = await stubbornRun('stubborn child');
    const result = kanban(['--db', board.db, 'reclaim', task.id], board.env);
    expect(result.code, result.stderr).toBe(0);
    await runEnded(board, identity, 30_000);
    expect(processesWith(marker)).toEqual([]);
    expect(killedEvent(board, task.id)[0]?.processes).toContainEqual(expect.objectContaining({ name: 'node', signal: 'SIGKILL' }));
    expect(getTask(board.store, task.id).status).toBe('ready');
  }, 60_000);

  it('the container itself SIGKILLed: the supervisor stops what is left (the child that ignores SIGTERM, by SIGKILL) before recording the run', async () => {
    const { marker, board, task, identity } = await stubbornRun('container killed');
    const container = runById(board.store, identity.taskId, identity.runId)!.worker_pid!;
    expect(readFileSync(`/proc/${container}/cmdline`, 'latin1')).toContain('kanban-contain');
    process.kill(container, 'SIGKILL'); // a container cannot clean up after a SIGKILL of its own (its worker dies with it)
    const run = await runEnded(board, identity, 30_000);
    expect(run.outcome).toBe('crashed');
    expect(processesWith(marker)).toEqual([]); // nothing of the run is left once it is recorded
    expect(killedEvent(board, task.id)[0]?.processes).toContainEqual(expect.objectContaining({ name: 'node', signal: 'SIGKILL' }));
  }, 60_000);

  it('the container SIGKILLed after its worker started a daemon in its own session with an empty environment: the supervisor stops it too, from what the container reported', async () => {
    const marker = `kanban-escape-${randomBytes(4).toString('hex')}`;
    const board = workerBoard({ escape: { command: worker('escape', 'daemon-noenv-hang', marker) } });
    const { task } = createTask(board.store, { title: 'daemon, then the container killed', assignee: 'escape' });
    const identity = claimAndStart(board, task.id, 600);
    await waitFor('the daemon', () => processesWith(marker).length > 0 && taskLog(board, task.id).includes('daemon started'));
    await new Promise((resolve) => setTimeout(resolve, 1500)); // the container looks at its processes twice a second
    const container = runById(board.store, identity.taskId, identity.runId)!.worker_pid!;
    process.kill(container, 'SIGKILL'); // nothing of the run carries its identity, nor is in its group: only the report names it
    const run = await runEnded(board, identity, 30_000);
    expect(run.outcome).toBe('crashed');
    expect(processesWith(marker)).toEqual([]);
    expect(killedEvent(board, task.id)[0]?.processes).toContainEqual(expect.objectContaining({ name: 'node', signal: 'SIGTERM' }));
  }, 60_000);
});
