import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.js';
import { tempDir } from '../helpers/board.js';
import { exited, fixture } from '../helpers/processes.js';

const ITERATIONS = Number(process.env.KANBAN_CRASH_ITERATIONS ?? 40);

/** Starts a burst of writes and SIGKILLs it after `afterMs` of writing; returns what it reported done. */
async function burstThenKill(db: string, seed: number, afterMs: number): Promise<string[]> {
  const child = spawn(process.execPath, [fixture('burst.mjs'), db, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (chunk) => (err += chunk));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the burst did not start within 10 s: ${err}`));
    }, 10_000);
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      if (out.startsWith('start\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', () => reject(new Error(`the burst ended before it started: ${err}`)));
  });
  await new Promise((resolve) => setTimeout(resolve, afterMs));
  child.kill('SIGKILL');
  await exited(child);
  // Only whole lines were reported: the last one may have been cut by the kill.
  return out.split('\n').slice(0, -1).filter((line) => line.startsWith('ok '));
}

/** Where each kind of reported write leaves its mark: the query finds it by its unique marker (or task). */
/** A title, as created or as edited since (the edit's event keeps the marker). */
const TITLE = 'SELECT 1 FROM tasks WHERE title = @m UNION SELECT 1 FROM task_events WHERE kind = \'edited\' AND payload LIKE \'%"\' || @m || \'"%\'';
const TRACE: Record<string, string> = {
  create: TITLE,
  edit: TITLE,
  comment: 'SELECT 1 FROM task_comments WHERE body = @m',
  block: "SELECT 1 FROM task_events WHERE kind = 'blocked' AND payload LIKE '%\"' || @m || '\"%'",
  unblock: "SELECT 1 FROM task_events WHERE kind = 'unblocked' AND task_id = @m",
  heartbeat: "SELECT 1 FROM task_events WHERE kind = 'heartbeat' AND payload LIKE '%\"' || @m || '\"%'",
  complete: "SELECT 1 FROM task_events WHERE kind = 'completed' AND payload LIKE '%\"' || @m || '\"%'",
  claim: "SELECT 1 FROM task_events WHERE kind IN ('claimed', 'demoted') AND task_id = @m",
  exit: "SELECT 1 FROM task_events WHERE kind IN ('crashed', 'gave_up') AND task_id = @m",
};

describe('crash safety of the board', () => {
  it(`SIGKILL in the middle of a burst of writes, ${ITERATIONS} times: the board opens, integrity is ok, every reported write is there`, async () => {
    const db = join(tempDir('kanban-crash-'), 'board.db');
    const seed = Number(process.env.KANBAN_CRASH_SEED ?? Date.now() % 100000);
    let reported = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const done = await burstThenKill(db, seed + i, 20 + ((seed * (i + 7)) % 180));
      reported += done.length;
      const store = openStore(db); // a torn board would be refused (exit 4) and copied aside here
      try {
        expect(store.db.pragma('integrity_check', { simple: true }), `seed ${seed} iteration ${i}`).toBe('ok');
        for (const line of done) {
          const [, op, marker] = line.split(' ') as [string, string, string];
          expect(TRACE[op], `an unknown write in "${line}"`).toBeDefined();
          expect(store.db.prepare(TRACE[op]!).get({ m: marker }), `seed ${seed} iteration ${i}: reported "${line}" but it is not on the board`).toBeTruthy();
        }
      } finally {
        store.close();
      }
    }
    expect(reported).toBeGreaterThan(ITERATIONS); // the kills did land mid-burst, after real work
  }, 180_000);
});
