// The entry point of dist/bundle/cli.cjs (scripts/bundle.mjs), which bin/kanban.js runs.
import { run } from './run.js';

let settled = false;
void run(process.argv).then((code) => {
  settled = true;
  process.exitCode = code;
});
// A command whose work can never end (nothing left to wake it) exits as Node ends an unsettled
// top-level await, which this entry was: 13, not a success.
process.once('beforeExit', () => {
  if (!settled) process.exitCode = 13;
});
