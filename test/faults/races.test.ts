import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/db.js';
import type { RunIdentity } from '../../src/core/run.js';
import { blockTask } from '../../src/store/lifecycle.js';
import { createTask, showTask } from '../../src/store/tasks.js';
import { tempDir, claimOrFail, integrityOk } from '../helpers/board.js';
import { fixture } from '../helpers/processes.js';
// @ts-expect-error: a plain ES module shared with the racer processes
import { ops } from '../fixtures/race-ops.mjs';

const INTERLEAVINGS = 200;
/**
 * The pairs that fight over one task, the state each starts from, and which of them may succeed
 * (from the contract, not from the code): [a succeeded, b succeeded] for each legal order.
 */
const PAIRS: Array<{ a: string; b: string; start: 'running' | 'blocked'; allowed: Array<[boolean, boolean]> }> = [
  // a person completes; a reclaim first just returns it to ready, which can still be completed
  { a: 'complete', b: 'reclaim', start: 'running', allowed: [[true, false], [true, true]] },
  // never both: a heartbeat moves the lease the reclaim judged; a reclaim ends the run
  { a: 'heartbeat', b: 'reclaim', start: 'running', allowed: [[true, false], [false, true]] },
  // a block of a blocked task is refused; after the unblock it is legal again
  { a: 'unblock', b: 'block', start: 'blocked', allowed: [[true, false], [true, true]] },
  // never both: the task belongs to one of them
  { a: 'workerComplete', b: 'reclaim', start: 'running', allowed: [[true, false], [false, true]] },
  { a: 'workerComplete', b: 'complete', start: 'running', allowed: [[true, false], [false, true]] },
  // a late exit of a reclaimed run is kept on that run (accepted); a crash first leaves nothing to reclaim
  { a: 'crash', b: 'reclaim', start: 'running', allowed: [[true, false], [true, true]] },
  { a: 'workerBlock', b: 'heartbeat', start: 'running', allowed: [[true, false], [true, true]] },
  { a: 'heartbeat', b: 'complete', start: 'running', allowed: [[true, true], [false, true]] },
];

class Racer {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<number, (reply: { ok: boolean; error?: string }) => void>();
  constructor() {
    this.child = spawn(process.execPath, [fixture('racer.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const reply = JSON.parse(line) as { n: number; ok: boolean; error?: string };
      this.waiting.get(reply.n)?.(reply);
      this.waiting.delete(reply.n);
    });
  }
  send(request: Record<string, unknown> & { n: number }): Promise<{ ok: boolean; error?: string }> {
    return new Promise((resolve) => {
      this.waiting.set(request.n, resolve);
      this.child.stdin!.write(`${JSON.stringify(request)}\n`);
    });
  }
  stop(): void {
    this.child.stdin!.end();
  }
}

/** What a result looks like with times, locks and ids left out: what a serial order decides. */
function snapshot(store: Store, taskId: string) {
  const { task, runs, events } = showTask(store, taskId);
  return {
    status: task.status,
    claimed: task.claim_lock !== null,
    run: task.current_run_id,
    failures: task.consecutive_failures,
    reason: task.status_reason,
    summary: task.summary,
    runs: runs.map((r) => [r.status, r.outcome]),
    events: events.map((e) => e.kind),
  };
}

let racers: [Racer, Racer];
beforeAll(() => {
  racers = [new Racer(), new Racer()];
});
afterAll(() => racers.forEach((r) => r.stop()));

describe('conflicting transitions from two processes at once', () => {
  it(`${INTERLEAVINGS} interleavings: the result is always one of the legal serial outcomes`, async () => {
    const dir = tempDir('kanban-races-');
    const orders = { ab: 0, ba: 0 };
    for (let i = 0; i < INTERLEAVINGS; i++) {
      const pair = PAIRS[i % PAIRS.length]!;
      const start = join(dir, `start-${i}.db`);
      const setup = openStore(start);
      const task = createTask(setup, { title: `race ${i}` }).task.id;
      let identity: RunIdentity | undefined;
      if (pair.start === 'running') {
        const claim = claimOrFail(setup, task, { profile: 'p', leaseMs: 60_000 });
        identity = claim.identity;
      } else blockTask(setup, task, 'initially');
      const expires = showTask(setup, task).task.claim_expires;
      setup.close();

      // The two serial orders, replayed in this process on copies of the same start.
      const serial = (first: string, second: string) => {
        const path = join(dir, `serial-${i}-${first}-${second}.db`);
        copyFileSync(start, path);
        const store = openStore(path);
        const results = [first, second].map((op) => {
          try {
            ops[op](store, { task, identity, expires });
            return true;
          } catch {
            return false;
          }
        });
        const result = { results: first === pair.a ? results : [...results].reverse(), state: snapshot(store, task) };
        store.close();
        return result;
      };
      const ab = serial(pair.a, pair.b);
      const ba = serial(pair.b, pair.a);

      const live = join(dir, `live-${i}.db`);
      copyFileSync(start, live);
      const at = Date.now() + 40;
      const [ra, rb] = await Promise.all([
        racers[0].send({ n: i, db: live, op: pair.a, task, identity, expires, at }),
        racers[1].send({ n: i, db: live, op: pair.b, task, identity, expires, at }),
      ]);
      const store = openStore(live);
      const actual = { results: [ra.ok, rb.ok], state: snapshot(store, task) };
      expect(integrityOk(store)).toBe(true);
      store.close();
      expect([ab, ba], `${pair.a} vs ${pair.b} (interleaving ${i}): ${JSON.stringify(actual)}`).toContainEqual(actual);
      expect(pair.allowed, `${pair.a} vs ${pair.b}: which may succeed`).toContainEqual(actual.results);
      if (JSON.stringify(actual) === JSON.stringify(ab)) orders.ab++;
      else orders.ba++;
    }
    console.log(`races: ${orders.ab} ended as a-then-b, ${orders.ba} as b-then-a`);
  }, 120_000);
});
