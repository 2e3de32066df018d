import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runsForTask } from '../../src/store/runs.js';
import { createTask, getTask } from '../../src/store/tasks.js';
import { tempDir } from '../helpers/board.js';
import { startDispatcher, type RunningDispatcher } from '../helpers/dispatcher.js';
import { eventsOf, waitFor, workerBoard } from '../helpers/workers.js';

/**
 * Real clock steps: the dispatcher, its supervisors and their workers run under libfaketime (the
 * Debian package `faketime`; .ci/run installs it), reading the wall-clock offset from a file the test
 * rewrites, as if the machine's clock were stepped. The monotonic clock is left alone, as a step
 * leaves it.
 */
const LIBFAKETIME = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1'].find(existsSync);

const running: RunningDispatcher[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop()));
});

function steppableClock(): { env: Record<string, string>; step(offset: string): void } {
  const file = join(tempDir('kanban-faketime-'), 'offset');
  writeFileSync(file, '+0\n');
  return {
    env: { LD_PRELOAD: LIBFAKETIME!, FAKETIME_TIMESTAMP_FILE: file, FAKETIME_NO_CACHE: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' },
    step: (offset) => writeFileSync(file, `${offset}\n`),
  };
}

/** Prints a line every 200 ms, 40 times, then exits 0: healthy and busy for ~8 s, whatever the clock says. */
const steady = [process.execPath, '-e', "let i = 0; const t = setInterval(() => { console.log('step ' + i); if (++i >= 40) clearInterval(t); }, 200);"];

describe.skipIf(!LIBFAKETIME)('the wall clock stepped under a running dispatcher', () => {
  it('forward by 2 h: a healthy run is not taken back; it completes in its one run', async () => {
    const clock = steppableClock();
    const board = workerBoard({ steady: { command: steady, on_clean_exit: 'complete' } }, { ...clock.env, KANBAN_HEARTBEAT_MAX_STALE_SECONDS: '60' });
    const { task } = createTask(board.store, { title: 'busy through the step', assignee: 'steady' });
    const d = startDispatcher(board);
    running.push(d);
    await waitFor('the worker', () => getTask(board.store, task.id).worker_pid);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    clock.step('+2h');
    await waitFor('the task done', () => getTask(board.store, task.id).status === 'done', 40_000);
    expect(runsForTask(board.store, task.id).map((r) => r.outcome)).toEqual(['completed']);
    expect(eventsOf(board, task.id).filter((e) => ['reclaimed', 'stale'].includes(e.kind))).toEqual([]);
  }, 60_000);

  it('back by 10 min: a run whose supervisor dies is still reaped, within the crash grace', async () => {
    const clock = steppableClock();
    const board = workerBoard({ steady: { command: steady, on_clean_exit: 'complete' } }, { ...clock.env, KANBAN_CRASH_GRACE_SECONDS: '1' });
    const { task } = createTask(board.store, { title: 'orphaned after the step', assignee: 'steady' });
    const d = startDispatcher(board);
    running.push(d);
    await waitFor('the worker', () => getTask(board.store, task.id).worker_pid);
    clock.step('-10m');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const [run] = runsForTask(board.store, task.id);
    process.kill(run!.supervisor_pid!, 'SIGKILL');
    await waitFor('the run reaped', () => runsForTask(board.store, task.id)[0]!.status === 'ended', 20_000);
    expect(runsForTask(board.store, task.id)[0]).toMatchObject({ outcome: 'crashed', error: `crashed: its supervisor ${run!.supervisor_pid} is gone` });
  }, 60_000);
});
