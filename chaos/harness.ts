import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isRunProcess, processesWith } from '../src/dispatcher/processes.js';
import { openStore, type Store } from '../src/store/db.js';
import { createTask } from '../src/store/tasks.js';
import type { RunRow, TaskRow } from '../src/store/types.js';
import { cleanEnv } from '../test/helpers/processes.js';

/**
 * The chaos run: many tasks (some in dependency chains), several dispatchers, workers that complete,
 * fail, are rate limited, hang past their lease, stay silent, print steadily or are SIGKILLed; and a
 * monkey that SIGKILLs workers, supervisors and dispatchers at random moments, starting a new
 * dispatcher for each one killed. When it settles, the board is checked against the promises.
 */

export interface ChaosOptions {
  tasks: number;
  dispatchers: number;
  seed: number;
  /** Give up (and report what had not settled) after this long. */
  timeoutMs: number;
  log?: (line: string) => void;
}

export interface ChaosReport {
  seed: number;
  tasks: number;
  seconds: number;
  settled: boolean;
  runs: Record<string, number>;
  kills: { workers: number; supervisors: number; dispatchers: number };
  final: Record<string, number>;
  /** Each must be 0. */
  violations: {
    unsettled: number;
    open_runs: number;
    overlapping_runs: number;
    double_completed: number;
    events_disagree: number;
    integrity: number;
  };
  examples: string[];
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KANBAN = join(ROOT, 'bin', 'kanban.js');
const WORKER = join(ROOT, 'chaos', 'worker.mjs');
const FAILURE_LIMIT = 3;

/** mulberry32: a small seeded generator, so that a seed replays the board and the monkey's choices. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => {});
  const random = generator(options.seed);
  const dir = mkdtempSync(join(tmpdir(), 'kanban-chaos-'));
  const db = join(dir, 'board.db');
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    JSON.stringify({
      profiles: { chaos: { command: [process.execPath, WORKER], on_clean_exit: 'complete' } },
      default_assignee: 'chaos',
      tick_seconds: 0.3,
      claim_ttl_seconds: 1.5,
      heartbeat_bridge_seconds: 0.3,
      heartbeat_max_stale_seconds: 4,
      crash_grace_seconds: 1,
      rate_limit_cooldown_seconds: 1,
      failure_limit: FAILURE_LIMIT,
      max_in_progress: 12,
    }),
  );
  const env = { ...cleanEnv(), KANBAN_CONFIG: config, KANBAN_CHAOS_SEED: String(options.seed) };

  const store = openStore(db);
  store.writeTxn(() => {
    const ids: string[] = [];
    for (let i = 0; i < options.tasks; i++) {
      const parents = i > 0 && random() < 0.2 ? [ids[Math.floor(random() * ids.length)]!] : [];
      ids.push(createTask(store, { title: `chaos ${i}`, parents }).task.id);
    }
  });

  const dispatchers: ChildProcess[] = [];
  const startDispatcher = () => dispatchers.push(spawn(process.execPath, [KANBAN, '--db', db, 'tui', '--no-ui'], { env, stdio: 'ignore' }));
  for (let i = 0; i < options.dispatchers; i++) startDispatcher();

  const kills = { workers: 0, supervisors: 0, dispatchers: 0 };
  const started = Date.now();
  let settledChecks = 0;
  try {
    while (Date.now() - started < options.timeoutMs) {
      await sleep(250);
      const state = progress(store);
      // The monkey works until most of the board is finished, then lets it settle.
      if (state.finished < 0.85 * options.tasks) {
        const open = store.db.prepare("SELECT * FROM task_runs WHERE status = 'running'").all() as RunRow[];
        const pick = open[Math.floor(random() * open.length)];
        const roll = random();
        if (pick && roll < 0.15 && isRunProcess(pick.worker_pid, { taskId: pick.task_id, runId: pick.id })) {
          process.kill(pick.worker_pid!, 'SIGKILL');
          kills.workers++;
        } else if (pick && roll < 0.23 && isRunProcess(pick.supervisor_pid, { taskId: pick.task_id, runId: pick.id })) {
          process.kill(pick.supervisor_pid!, 'SIGKILL');
          kills.supervisors++;
        } else if (roll > 0.97) {
          const victim = dispatchers.splice(Math.floor(random() * dispatchers.length), 1)[0]!;
          victim.kill('SIGKILL');
          kills.dispatchers++;
          startDispatcher();
        }
      }
      settledChecks = state.settled ? settledChecks + 1 : 0;
      if (settledChecks >= 3) break;
      if (Math.floor((Date.now() - started) / 5000) !== Math.floor((Date.now() - started - 250) / 5000)) {
        log(`  ${Math.round((Date.now() - started) / 1000)}s: ${state.finished}/${options.tasks} finished, ${state.running} running`);
      }
    }
  } finally {
    for (const d of dispatchers) d.kill('SIGINT');
    await Promise.all(dispatchers.map((d) => new Promise((resolve) => (d.exitCode !== null || d.signalCode !== null ? resolve(null) : d.on('exit', resolve)))));
    killBoardProcesses(db);
  }
  const report = check(store, options, kills, (Date.now() - started) / 1000, settledChecks >= 3);
  store.close();
  if (Object.values(report.violations).every((n) => n === 0) && !process.env.KANBAN_CHAOS_KEEP) rmSync(dir, { recursive: true, force: true });
  else report.examples.push(`board kept for inspection: ${db}`);
  return report;
}

/** Tasks that will not move again: done, blocked by the breaker, or todo behind a task the breaker blocked. */
function finalTasks(store: Store): { final: Set<string>; tasks: TaskRow[] } {
  const tasks = store.db.prepare('SELECT * FROM tasks').all() as TaskRow[];
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const parents = new Map<string, string[]>();
  for (const { parent_id, child_id } of store.db.prepare('SELECT parent_id, child_id FROM task_links').all() as Array<{ parent_id: string; child_id: string }>) {
    parents.set(child_id, [...(parents.get(child_id) ?? []), parent_id]);
  }
  const stuckBehindBreaker = (id: string, seen = new Set<string>()): boolean =>
    (parents.get(id) ?? []).some((p) => !seen.has(p) && (byId.get(p)?.status === 'blocked' || (byId.get(p)?.status === 'todo' && stuckBehindBreaker(p, seen.add(p)))));
  const final = new Set(tasks.filter((t) => t.status === 'done' || t.status === 'blocked' || (t.status === 'todo' && stuckBehindBreaker(t.id))).map((t) => t.id));
  return { final, tasks };
}

function progress(store: Store): { finished: number; running: number; settled: boolean } {
  const { final, tasks } = finalTasks(store);
  const open = store.db.prepare("SELECT count(*) FROM task_runs WHERE status = 'running'").pluck().get() as number;
  return { finished: final.size, running: open, settled: final.size === tasks.length && open === 0 };
}

/**
 * Stops every process working for this board (hung workers of the last moments, and any whose pid
 * was never recorded): one pass over /proc for the board in their environment.
 */
export function killBoardProcesses(dbPath: string): number {
  let killed = 0;
  for (const pid of processesWith([`KANBAN_DB=${dbPath}`])) {
    try {
      process.kill(pid, 'SIGKILL');
      killed++;
    } catch {
      // gone meanwhile
    }
  }
  return killed;
}

/** Outcomes that close a run with an event of the same kind, carrying the run's id. */
const OUTCOME_EVENTS = new Set(['completed', 'blocked', 'crashed', 'rate_limited', 'timed_out', 'stale', 'protocol_violation', 'spawn_failed', 'reclaimed']);

function check(store: Store, options: ChaosOptions, kills: ChaosReport['kills'], seconds: number, settled: boolean): ChaosReport {
  const { final, tasks } = finalTasks(store);
  const runs = store.db.prepare('SELECT * FROM task_runs ORDER BY task_id, started_at, id').all() as RunRow[];
  const events = store.db.prepare('SELECT task_id, run_id, kind FROM task_events ORDER BY id').all() as Array<{ task_id: string; run_id: number | null; kind: string }>;
  const runsOf = new Map<string, RunRow[]>();
  for (const run of runs) runsOf.set(run.task_id, [...(runsOf.get(run.task_id) ?? []), run]);
  const eventsOf = new Map<string, Array<{ run_id: number | null; kind: string }>>();
  for (const e of events) eventsOf.set(e.task_id, [...(eventsOf.get(e.task_id) ?? []), e]);

  const examples: string[] = [];
  const note = (text: string) => examples.length < 10 && examples.push(text);
  const violations: ChaosReport['violations'] = { unsettled: 0, open_runs: 0, overlapping_runs: 0, double_completed: 0, events_disagree: 0, integrity: 0 };

  for (const task of tasks) {
    const taskRuns = runsOf.get(task.id) ?? [];
    const taskEvents = eventsOf.get(task.id) ?? [];
    if (!final.has(task.id)) {
      violations.unsettled++;
      note(`${task.id} did not settle: ${task.status}`);
    }
    for (let i = 1; i < taskRuns.length; i++) {
      const previous = taskRuns[i - 1]!;
      if (previous.ended_at === null || taskRuns[i]!.started_at < previous.ended_at) {
        violations.overlapping_runs++;
        note(`${task.id}: run ${taskRuns[i]!.id} started before run ${previous.id} ended`);
      }
    }
    if (taskRuns.filter((r) => r.outcome === 'completed').length > 1) {
      violations.double_completed++;
      note(`${task.id} has ${taskRuns.filter((r) => r.outcome === 'completed').length} completed runs`);
    }
    const disagreements: string[] = [];
    if (taskEvents.filter((e) => e.kind === 'claimed').length !== taskRuns.length) disagreements.push('claimed events ≠ runs');
    for (const run of taskRuns) {
      if (run.outcome !== null && OUTCOME_EVENTS.has(run.outcome) && !taskEvents.some((e) => e.kind === run.outcome && e.run_id === run.id)) {
        disagreements.push(`run ${run.id} ${run.outcome} has no event`);
      }
    }
    const lastState = taskEvents.filter((e) => ['completed', 'gave_up', 'blocked', 'unblocked', 'claimed', 'created', 'promoted'].includes(e.kind)).at(-1)?.kind;
    if (task.status === 'done' && (lastState !== 'completed' || !taskRuns.some((r) => r.outcome === 'completed'))) disagreements.push(`done, but its last event is ${lastState}`);
    if (task.status === 'blocked' && (lastState !== 'gave_up' || task.consecutive_failures < FAILURE_LIMIT)) disagreements.push(`blocked, but its last event is ${lastState} with ${task.consecutive_failures} failures`);
    if (disagreements.length > 0) {
      violations.events_disagree++;
      note(`${task.id}: ${disagreements.join('; ')}`);
    }
  }
  violations.open_runs = runs.filter((r) => r.status === 'running').length;
  if (store.db.pragma('integrity_check', { simple: true }) !== 'ok') violations.integrity = 1;

  const count = (values: string[]) => values.reduce<Record<string, number>>((acc, v) => ({ ...acc, [v]: (acc[v] ?? 0) + 1 }), {});
  return {
    seed: options.seed,
    tasks: tasks.length,
    seconds: Math.round(seconds),
    settled,
    runs: count(runs.map((r) => r.outcome ?? 'open')),
    kills,
    final: count(tasks.map((t) => t.status)),
    violations,
    examples,
  };
}

export function formatReport(report: ChaosReport): string {
  const runs = Object.values(report.runs).reduce((a, b) => a + b, 0);
  return [
    `chaos seed ${report.seed}: ${report.tasks} tasks, ${runs} runs, ${report.seconds}s, ${report.settled ? 'settled' : 'DID NOT SETTLE'}`,
    `  runs by outcome: ${Object.entries(report.runs).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `  kills: ${report.kills.workers} workers, ${report.kills.supervisors} supervisors, ${report.kills.dispatchers} dispatchers (each replaced)`,
    `  final: ${Object.entries(report.final).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `  invariants (each must be 0): ${Object.entries(report.violations).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    ...report.examples.map((e) => `  ${e}`),
  ].join('\n');
}
