import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openStore } from '../src/store/db.js';
import { claimTask, completeRun, recordExit } from '../src/store/lease.js';
import type { FailurePolicy } from '../src/core/breaker.js';
import { readStatsFacts } from '../src/store/stats.js';
import { createTask } from '../src/store/tasks.js';
import { computeStats, statsWindow } from '../src/stats.js';
import { median, medians, report } from './measure.js';

const TASKS = 10_000;
const RUNS_PER_TASK = 5;
const SAMPLES = 15;
const KANBAN = fileURLToPath(new URL('../bin/kanban.js', import.meta.url));
const PROFILES = ['claude', 'codex', 'gemini', 'shell'];
const POLICY: FailurePolicy = { limit: 1_000, limitSource: 'bench' };

/**
 * 10,000 tasks with 5 runs each (50,000 runs) over the last 30 days, made through the store's own
 * transitions: four of five runs rate limited or crashed (with their events), the last completed
 * with an agent-sized summary.
 */
function buildBoard(path: string, now: number): void {
  let clock = now - 30 * 24 * 3_600_000;
  const store = openStore(path, { clock: { now: () => clock } });
  const step = (30 * 24 * 3_600_000) / (TASKS * RUNS_PER_TASK * 2);
  store.writeTxn(() => {
    for (let i = 0; i < TASKS; i++) {
      const profile = PROFILES[i % PROFILES.length]!;
      const { task } = createTask(store, { title: `Task ${i}: refactor the ${['parser', 'scheduler', 'renderer', 'store'][i % 4]} module`, body: 'Context. '.repeat(20), assignee: profile });
      for (let r = 0; r < RUNS_PER_TASK; r++) {
        const claim = claimTask(store, task.id, { profile, leaseMs: 900_000 });
        if (!claim.claimed) throw new Error(claim.reason);
        clock += step;
        if (r === RUNS_PER_TASK - 1) completeRun(store, claim.identity, "Done: ".repeat(80));
        else recordExit(store, claim.identity, { exitCode: r % 2 === 0 ? 75 : 1, signal: null, failures: POLICY, rateLimitCooldownMs: step / 2 });
        clock += step;
      }
    }
  });
  store.close();
}

/**
 * The facts query and the pure computation in-process (wall and CPU time: on a loaded machine the
 * CPU time is the steadier figure), and `kanban stats --json` as a whole process.
 */
export function benchStats(): { queryMs: number } {
  const dir = mkdtempSync(join(tmpdir(), 'kanban-bench-'));
  try {
    const db = join(dir, 'board.db');
    const now = Date.now();
    buildBoard(db, now);
    const store = openStore(db, { checkIntegrity: false });
    const wall: number[] = [];
    const cpu: number[] = [];
    const compute: number[] = [];
    try {
      for (let i = 0; i < SAMPLES + 2; i++) {
        const started = performance.now();
        const cpuStarted = process.cpuUsage();
        const facts = readStatsFacts(store, statsWindow(now));
        const cpuUsed = process.cpuUsage(cpuStarted);
        const read = performance.now();
        computeStats(facts, now);
        if (i >= 2) {
          wall.push(read - started);
          cpu.push((cpuUsed.user + cpuUsed.system) / 1000);
          compute.push(performance.now() - read);
        }
      }
    } finally {
      store.close();
    }
    const whole = medians({ node: [process.execPath, '-e', '0'], stats: [process.execPath, KANBAN, '--db', db, 'stats', '--json'] }, 10);
    report(`kanban stats on ${TASKS.toLocaleString('en')} tasks, ${(TASKS * RUNS_PER_TASK).toLocaleString('en')} runs (median of ${SAMPLES})`, [
      ['facts query (src/store/stats.ts), wall', `${median(wall).toFixed(1)} ms`],
      ['facts query, CPU time', `${median(cpu).toFixed(1)} ms`],
      ['computation (src/stats.ts)', `${median(compute).toFixed(2)} ms`],
      ['node -e 0 (baseline process)', `${whole.node!.toFixed(1)} ms`],
      ['kanban stats --json (process)', `${whole.stats!.toFixed(1)} ms`],
    ]);
    return { queryMs: median(wall) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) benchStats();
