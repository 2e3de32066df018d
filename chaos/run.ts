// `npm run chaos`: 500 tasks, 6 dispatchers under a cap of 8 (and 3 for a second profile), every fault;
// prints the figures, exits 1 if a promise broke. KANBAN_CHAOS_SEED replays a run; KANBAN_CHAOS_TASKS
// changes its size, KANBAN_CHAOS_DISPATCHERS the number of dispatchers.
import { formatReport, runChaos } from './harness.js';

const seed = Number(process.env.KANBAN_CHAOS_SEED ?? Math.floor(Math.random() * 1_000_000));
const tasks = Number(process.env.KANBAN_CHAOS_TASKS ?? 500);
const dispatchers = Number(process.env.KANBAN_CHAOS_DISPATCHERS ?? 6);
console.log(`chaos: seed ${seed} (KANBAN_CHAOS_SEED=${seed} replays it), ${tasks} tasks, ${dispatchers} dispatchers`);
const report = await runChaos({ tasks, dispatchers, seed, cap: 8, profileCap: 3, timeoutMs: 25 * 60_000, log: console.log });
console.log(formatReport(report));
process.exitCode = report.settled && Object.values(report.violations).every((n) => n === 0) ? 0 : 1;
