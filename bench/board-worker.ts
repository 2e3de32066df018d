// A process of its own for bench/claims.ts and bench/watch.ts (forked by bench/workers.ts): it opens
// the board it is told to through the port, as a dispatcher or a CLI command would, and on the
// parent's word claims ready tasks until none is left, or makes one change.
import { errorMessage, Refused } from '../src/errors.js';
import type { BoardStore } from '../src/port/board.js';
import { openBoard } from '../src/port/open.js';
import type { ToWorker, FromWorker } from './workers.js';

let board: BoardStore | null = null;
let caps = true;
let batch = 16;

const send = (message: FromWorker) => process.send!(message);
/** Wall-clock time with sub-millisecond precision, comparable between processes. */
const epochNow = () => performance.timeOrigin + performance.now();

/**
 * The dispatcher's spawn step (src/dispatcher/steps/spawn.ts), reduced to the claim: the ready
 * queue by priority, then each task claimed in turn, `Refused` meaning another claimer got it first;
 * the queue read again until it is empty.
 */
async function claimAll(): Promise<void> {
  const options = { profile: null, leaseMs: 60_000, ...(caps && { caps: { board: 1_000_000 } }) };
  let claimed = 0;
  let refused = 0;
  let atCap = 0;
  const errors: string[] = [];
  const started = performance.now();
  let last = started;
  let longestGapMs = 0;
  for (;;) {
    const queue = await board!.dispatch.readyQueue(batch);
    if (queue.length === 0) break;
    for (const task of queue) {
      try {
        const result = await board!.lease.claim(task.id, options);
        if (!result.claimed) {
          atCap++;
          continue;
        }
        claimed++;
        const now = performance.now();
        longestGapMs = Math.max(longestGapMs, now - last);
        last = now;
      } catch (err) {
        if (err instanceof Refused) refused++;
        else errors.push(errorMessage(err));
      }
    }
  }
  const ended = performance.now();
  longestGapMs = Math.max(longestGapMs, ended - last); // a claimer that never got one waited all along
  send({ type: 'done', claimed, refused, atCap, errors, longestGapMs, ms: ended - started });
}

process.on('message', (message: ToWorker) => {
  void (async () => {
    try {
      switch (message.type) {
        case 'open':
          board = await openBoard(message.location);
          caps = message.caps;
          batch = message.batch;
          send({ type: 'ready' });
          break;
        case 'claim':
          await claimAll();
          break;
        case 'create': {
          await board!.transitions.create({ title: message.title });
          send({ type: 'created', at: epochNow() });
          break;
        }
        case 'close':
          await board?.close();
          board = null;
          send({ type: 'closed' });
          break;
        case 'exit':
          await board?.close();
          process.disconnect();
          break;
      }
    } catch (err) {
      send({ type: 'failed', error: errorMessage(err) });
    }
  })();
});
