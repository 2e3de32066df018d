import { expect } from 'vitest';

/**
 * Says which test held its worker's event loop for long. Vitest's worker answers its runner over an
 * RPC whose calls time out after 60 s; a test that blocks the loop that long (synchronous child
 * processes back to back on a loaded machine) fails the whole run with "Timeout calling
 * onTaskUpdate", naming no test. This names it, on stderr, from 15 s.
 */
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
