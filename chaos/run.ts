// `npm run chaos`: 500 tasks, 3 dispatchers, faults everywhere; prints the figures, exits 1 if a promise broke.
// KANBAN_CHAOS_SEED replays a run; KANBAN_CHAOS_TASKS changes its size.
import { formatReport, runChaos } from './harness.js';

const seed = Number(process.env.KANBAN_CHAOS_SEED ?? Math.floor(Math.random() * 1_000_000));
const tasks = Number(process.env.KANBAN_CHAOS_TASKS ?? 500);
console.log(`chaos: seed ${seed} (KANBAN_CHAOS_SEED=${seed} replays it), ${tasks} tasks, 3 dispatchers`);
const report = await runChaos({ tasks, dispatchers: 3, seed, timeoutMs: 5 * 60_000, log: console.log });
console.log(formatReport(report));
process.exitCode = report.settled && Object.values(report.violations).every((n) => n === 0) ? 0 : 1;
