// Entry point of both bundles (scripts/bundle.mjs): bin/kanban.js loads one or the other.
import { run } from './run.js';

void run(process.argv).then((code) => {
  process.exitCode = code;
});
