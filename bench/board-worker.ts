// A process of its own for bench/claims.ts and bench/watch.ts (forked by bench/workers.ts): it opens
// the board it is told to through the port, as a dispatcher or a CLI command would, and on the
// parent's word claims ready tasks until none is left, or makes one change.
import { errorMessage } from '../src/errors.js';
import type { TaskRow } from '../src/core/types.js';
import type { ClaimCandidate } from '../src/port/types.js';
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
 * queue by priority, then the first of what is left of it claimed, over and over (claimFirst passes
 * over the tasks another claimer took first, counted as lost); the queue read again until it is empty.
 */
async function claimAll(): Promise<void> {
  const options = { leaseMs: 60_000 };
  const candidate = (task: TaskRow): ClaimCandidate => ({ taskId: task.id, profile: null, ...(caps && { caps: { board: 1_000_000 } }) });
  let claimed = 0;
  let lost = 0;
  let atCap = 0;
  const errors: string[] = [];
  const started = performance.now();
  let last = started;
  let longestGapMs = 0;
  for (;;) {
    let window = (await board!.dispatch.readyQueue(batch)).map(candidate);
    if (window.length === 0) break;
    while (window.length > 0) {
      try {
        const result = await board!.lease.claimFirst(window, options);
        if (!result) {
          lost += window.length;
          break;
        }
        const at = window.findIndex((c) => c.taskId === result.task.id);
        lost += at;
        window = window.slice(at + 1);
        if (!result.claimed) {
          atCap++;
          continue;
        }
        claimed++;
        const now = performance.now();
        longestGapMs = Math.max(longestGapMs, now - last);
        last = now;
      } catch (err) {
        errors.push(errorMessage(err));
        break;
      }
    }
  }
  const ended = performance.now();
  longestGapMs = Math.max(longestGapMs, ended - last); // a claimer that never got one waited all along
  send({ type: 'done', claimed, lost, atCap, errors, longestGapMs, ms: ended - started });
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
