import { beforeEach, expect } from 'vitest';

/**
 * Vitest's worker answers its runner over an RPC whose calls time out after 60 s. Between two
 * synchronous tests it does not give the event loop a turn, so a file of them (real CLI processes run
 * back to back) can hold the loop past 60 s on a loaded machine, and the answer waiting meanwhile
 * fails the whole run with "Timeout calling onTaskUpdate", naming no test.
 */

// Each test starts after a full turn of the event loop (the second setImmediate runs after a poll
// phase, which reads the runner's answers), so only a single test could hold it that long.
beforeEach(async () => {
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
});

// And one that does is named, on stderr, from 15 s.
const EVERY_MS = 1000;
const SAY_FROM_MS = 15_000;
let last = performance.now();
setInterval(() => {
  const now = performance.now();
  const blockedMs = now - last - EVERY_MS;
  last = now;
  if (blockedMs < SAY_FROM_MS) return;
  const test = expect.getState().currentTestName ?? '(between tests)';
  process.stderr.write(`blocked-loop: the event loop was held ${Math.round(blockedMs / 1000)} s, in ${expect.getState().testPath ?? '?'} > ${test}\n`);
}, EVERY_MS).unref();
