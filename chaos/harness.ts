import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, cpSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isRunProcess } from '../src/dispatcher/processes.js';
import { openStore, type Store } from '../src/store/db.js';
import { createTask, listTasks } from '../src/store/tasks.js';
import { openRuns } from '../src/store/dispatch.js';
import { eventsForTask, recentEvents } from '../src/store/events.js';
import { runsForTask } from '../src/store/runs.js';
import { integrityOk } from '../test/helpers/sqlite-hooks.js';
import { STATUSES, type RunRow, type Task } from '../src/core/types.js';
import { compileSharedObject } from '../test/helpers/native.js';
import { cleanEnv } from '../test/helpers/processes.js';
import { behaviourOf, daemonMarker, ESCAPE_KINDS, SUCCESSES } from './behaviour.mjs';

/**
 * The chaos run: many tasks (some in dependency chains), several dispatchers under a cap, workers that
 * complete, fail, are rate limited, hang past their lease, stay silent, print steadily, are SIGKILLed
 * or leave processes behind (chaos/behaviour.mjs); and a monkey that injects faults while most of the
 * board is unfinished: SIGKILLs (each dead dispatcher replaced), SIGSTOP freezes, a full disk, a
 * read-only window, clock steps. When it settles, the board and the machine are checked against the
 * promises (`check`, the one place the report is computed).
 */

export interface ChaosFaults {
  /** SIGKILL workers, supervisors and dispatchers (each dispatcher replaced). */
  kills: boolean;
  /** SIGSTOP a dispatcher, supervisor or worker for 1–4 s, then SIGCONT. */
  freezes: boolean;
  /** Workers that leave processes behind: setsid daemons (one without KANBAN_* variables), a child ignoring SIGTERM. */
  escapes: boolean;
  /** The board's folder on a 64 MB tmpfs, filled to ENOSPC for 3–5 s, once or twice (root only). */
  diskFull: boolean;
  /** A read-only window of 3–5 s on the board's folder (root only; see readOnlyInjector). */
  readOnly: boolean;
  /** The machine's clock steps (chaos/clock-step.c, preloaded): +2h, then −10 min, 3–5 s each, for every dispatcher and what it starts. */
  clockSteps: boolean;
}

export const ALL_FAULTS: ChaosFaults = { kills: true, freezes: true, escapes: true, diskFull: true, readOnly: true, clockSteps: true };

export interface ChaosOptions {
  tasks: number;
  dispatchers: number;
  seed: number;
  /** Give up (and report what had not settled) after this long. */
  timeoutMs: number;
  /** The board's max_in_progress (default 8). */
  cap?: number;
  /** max_in_progress of a second profile, `chaos-b`, which a quarter of the tasks are assigned to (default 3; null: no second profile). */
  profileCap?: number | null;
  /** Which faults to inject (default: all). */
  faults?: Partial<ChaosFaults>;
  /**
   * How many dispatchers (and what they start) see the clock steps: default all of them, as a step of
   * one machine's clock is seen by all its processes at once. Fewer models clocks that disagree
   * (dispatchers on several hosts), which a board on one machine never has.
   */
  clockDispatchers?: number;
  log?: (line: string) => void;
}

export interface ChaosReport {
  seed: number;
  tasks: number;
  seconds: number;
  settled: boolean;
  dispatchers: number;
  runs: Record<string, number>;
  /** What the runs were meant to do (behaviour.mjs), by behaviour. */
  intended: Record<string, number>;
  kills: { workers: number; supervisors: number; dispatchers: number };
  faults: FaultCounts;
  /** Dispatchers that exited without being killed or stopped (each restarted), with the end of their stderr. */
  dispatcherDeaths: number;
  concurrency: {
    cap: number;
    /** Most runs open at once, in the order the board committed claims and endings (exact, whatever the clocks said). */
    max: number;
    /** The same from the runs' started_at and ended_at (skewed by clock steps). */
    maxByTimestamps: number;
    /** The most open runs the monkey saw on one of its ticks. */
    maxSampled: number;
    profile: { name: string; cap: number; max: number; maxSampled: number } | null;
  };
  /** Processes of this chaos run alive after the board settled, the grace passed and the dispatchers stopped. */
  leftovers: { count: number; byKind: Record<string, number> };
  /**
   * Counted failures on runs meant to succeed that the monkey did not kill or freeze, by kind, and by
   * the window faults they were recorded during or within 8 s after (failing those, dispatchers frozen
   * or killed; `a + b` when several), `no window` for the others: a hint of the cause, not a proof.
   */
  charged: { runs: number; byKind: Record<string, number>; byWindow: Record<string, number>; blockedTasks: number };
  /** Runs whose timestamps contradict the order the board committed them in (clock steps): not a broken promise in itself. */
  clockDisorder: number;
  final: Record<string, number>;
  /** Each must be 0. */
  violations: {
    unsettled: number;
    open_runs: number;
    overlapping_runs: number;
    double_completed: number;
    events_disagree: number;
    integrity: number;
    over_cap: number;
    over_profile_cap: number;
    processes_left: number;
    infra_charged: number;
  };
  /** Faults skipped, and what the clock-step probe found. */
  notes: string[];
  examples: string[];
}

export interface FaultCounts {
  freezes: { dispatchers: number; supervisors: number; workers: number };
  diskFull: number;
  readOnly: number;
  clockSteps: string[];
  /** Runs meant to leave processes behind, by kind. */
  escapes: Record<string, number>;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KANBAN = join(ROOT, 'bin', 'kanban.js');
const WORKER = join(ROOT, 'chaos', 'worker.mjs');
const FAILURE_LIMIT = 3;
const PROFILE_B = 'chaos-b';
const TICK_MS = 250;
/** Nothing written to the board this long, unsettled: stuck (a lease or a cooldown hours away), not slow. */
const STALL_MS = 120_000;
/** After the board settles: the product's own cleanup (a 5 s kill grace and a tick) has this long. */
const LEFTOVER_GRACE_MS = 8000;
/** The board's folder when it gets its own file system. */
const TMPFS_SIZE = '64m';
/** Counted failures: countFailure (src/store/lease.ts) writes these with `failures` in the payload. */
const COUNTED_KINDS = ['crashed', 'hung', 'stale', 'reclaimed', 'timed_out', 'protocol_violation', 'spawn_failed'];

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

/** A generator of its own for each fault, so that switching one off does not change another's choices. */
function generatorFor(seed: number, name: string): () => number {
  let h = seed >>> 0;
  for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return generator(h);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- the run ----

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => {});
  const faults = { ...ALL_FAULTS, ...options.faults };
  const cap = options.cap ?? 8;
  const profileCap = options.profileCap === undefined ? 3 : options.profileCap;
  const notes: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'kanban-chaos-'));
  const token = basename(dir).replace(/^kanban-chaos-/, '');
  const marker = daemonMarker(options.seed, token);
  const board = boardFolder(join(dir, 'board'), faults.diskFull || faults.readOnly, notes);
  if (!board.mounted) {
    if (faults.diskFull) notes.push(`disk-full windows skipped: ${board.why}`);
    if (faults.readOnly) notes.push(`read-only window skipped: ${board.why}`);
  }
  const clock = faults.clockSteps ? steppedClock(join(dir, 'clock-offset'), dir, notes) : null;
  const db = join(board.path, 'board.db');
  const config = join(dir, 'config.yaml');
  writeConfig(config, cap, profileCap);
  const env = {
    ...cleanEnv(),
    KANBAN_CONFIG: config,
    KANBAN_CHAOS_SEED: String(options.seed),
    KANBAN_CHAOS_TOKEN: token,
    KANBAN_CHAOS_ESCAPES: faults.escapes ? '1' : '0',
  };

  let kept: string | null = null;
  try {
    const store = openStore(db);
    try {
      createBoard(store, options, profileCap !== null);
      const clockDispatchers = clock ? Math.min(options.dispatchers, options.clockDispatchers ?? options.dispatchers) : 0;
      const pool = new DispatcherPool(db, env, dir, clock?.env ?? {});
      for (let i = 0; i < options.dispatchers; i++) pool.start(i < clockDispatchers);
      const monkey: Monkey = {
        store,
        pool,
        touched: new Set(),
        kills: { workers: 0, supervisors: 0, dispatchers: 0 },
        faults: { freezes: { dispatchers: 0, supervisors: 0, workers: 0 }, diskFull: 0, readOnly: 0, clockSteps: [], escapes: {} },
        window: null,
        windowEndedAt: 0,
        windows: [],
        timeline: [],
        log,
      };
      const injectors: Injector[] = [
        ...(faults.kills ? [killInjector(monkey, generatorFor(options.seed, 'kills'))] : []),
        ...(faults.freezes ? [freezeInjector(monkey, generatorFor(options.seed, 'freezes'))] : []),
        ...(faults.diskFull && board.mounted ? [diskFullInjector(monkey, board.path, generatorFor(options.seed, 'disk-full'))] : []),
        ...(faults.readOnly && board.mounted ? [readOnlyInjector(monkey, board.path, generatorFor(options.seed, 'read-only'))] : []),
        ...(clock && clockDispatchers > 0 ? [clockStepInjector(monkey, clock.file, generatorFor(options.seed, 'clock'))] : []),
      ];
      if (clockDispatchers > 0) notes.push(`${clockDispatchers} of ${options.dispatchers} dispatchers under the clock-step shim (their supervisors and workers inherit LD_PRELOAD)`);

      const started = Date.now();
      const samples = { max: 0, profileMax: 0 };
      let settledChecks = 0;
      let loggedAt = started;
      let leftovers: Leftover[] = [];
      try {
        while (Date.now() - started < options.timeoutMs) {
          await sleep(TICK_MS);
          const state = progress(store);
          const open = openRuns(store);
          samples.max = Math.max(samples.max, open.length);
          samples.profileMax = Math.max(samples.profileMax, open.filter((r) => r.profile === PROFILE_B).length);
          monkey.timeline.push([Date.now(), recentEvents(store, { last: 1 }).cursor]);
          // The monkey starts new faults until most of the board is finished or half the time is
          // gone, then lets it settle: on a slow machine, faults for as long as work remains would
          // feed on themselves (more faults, slower progress, more faults).
          const now = Date.now();
          const active = state.finished < 0.85 * options.tasks && now - started < options.timeoutMs / 2;
          const tick: Tick = { now, finished: state.finished / options.tasks, active, open };
          for (const injector of injectors) injector.tick(tick);
          settledChecks = state.settled && monkey.window === null ? settledChecks + 1 : 0;
          if (settledChecks >= 3) break;
          if (stalled(monkey.timeline, tick.now)) {
            notes.push(`gave up after ${Math.round((tick.now - started) / 1000)}s: nothing happened on the board for ${STALL_MS / 1000}s`);
            break;
          }
          if (Date.now() - loggedAt >= 5000) {
            loggedAt = Date.now();
            log(`  ${Math.round((Date.now() - started) / 1000)}s: ${state.finished}/${options.tasks} finished, ${state.running} running${monkey.window ? `, ${monkey.window}` : ''}`);
          }
        }
      } finally {
        for (const injector of injectors) injector.restore();
        // The product's own cleanup gets its grace with the dispatchers still running; then they stop.
        await sleep(LEFTOVER_GRACE_MS);
        await pool.stop();
        leftovers = findLeftovers(store, db, config, marker);
        killBoardProcesses(db, marker);
      }
      const seconds = (Date.now() - started) / 1000;
      const report = check(store, { options, cap, profileCap, monkey, samples, leftovers, deaths: pool.deaths, seconds, settled: settledChecks >= 3, notes: [...notes, ...(clock?.notes ?? [])] });
      if (Object.values(report.violations).some((n) => n > 0) || process.env.KANBAN_CHAOS_KEEP) {
        // A board on its own tmpfs is copied out (once closed) before the tmpfs goes.
        kept = board.mounted ? join(dir, 'board-kept', 'board.db') : db;
        report.examples.push(`board kept for inspection: ${kept} (dispatchers' stderr: ${join(dir, 'dispatcher-*.log')})`);
      }
      return report;
    } finally {
      store.close();
    }
  } finally {
    // Nothing of this run may still hold the folder: the board is unmounted only then.
    killBoardProcesses(db, marker);
    if (kept !== null && board.mounted) cpSync(board.path, join(dir, 'board-kept'), { recursive: true });
    board.unmount();
    if (kept === null) rmSync(dir, { recursive: true, force: true });
  }
}

/** Short leases and ticks, so that a run of minutes sees many of each ending; the caps. */
function writeConfig(path: string, cap: number, profileCap: number | null): void {
  const profile = { command: [process.execPath, WORKER], on_clean_exit: 'complete' };
  writeFileSync(
    path,
    JSON.stringify({
      profiles: { chaos: profile, ...(profileCap !== null && { [PROFILE_B]: { ...profile, max_in_progress: profileCap } }) },
      default_assignee: 'chaos',
      tick_seconds: 0.3,
      claim_ttl_seconds: 1.5,
      heartbeat_bridge_seconds: 0.3,
      heartbeat_max_stale_seconds: 10, // above the longest freeze (4 s) and a loaded machine's pauses: silence, not slowness
      crash_grace_seconds: 1,
      rate_limit_cooldown_seconds: 1,
      failure_limit: FAILURE_LIMIT,
      max_in_progress: cap,
    }),
  );
}

/** The tasks: a fifth of them children of an earlier one; a quarter assigned to the second profile. */
function createBoard(store: Store, options: ChaosOptions, withProfileB: boolean): void {
  const random = generator(options.seed); // as it always was: a seed makes the same board
  const assign = generatorFor(options.seed, 'assignee');
  store.writeTxn(() => {
    const ids: string[] = [];
    for (let i = 0; i < options.tasks; i++) {
      const parents = i > 0 && random() < 0.2 ? [ids[Math.floor(random() * ids.length)]!] : [];
      const assignee = withProfileB && assign() < 0.25 ? PROFILE_B : null;
      ids.push(createTask(store, { title: `chaos ${i}`, parents, assignee }).task.id);
    }
  });
}

/** Dispatchers (`kanban tui --no-ui`), each started again when it dies, whoever killed it. */
class DispatcherPool {
  private readonly running = new Map<ChildProcess, boolean>();
  private readonly killed = new WeakSet<ChildProcess>();
  private stopping = false;
  private count = 0;
  /** Dispatchers that exited on their own, with the end of their stderr. */
  readonly deaths: string[] = [];

  constructor(
    private readonly db: string,
    private readonly env: Record<string, string>,
    private readonly logDir: string,
    private readonly clockEnv: Record<string, string>,
  ) {}

  start(faked: boolean): void {
    const logPath = join(this.logDir, `dispatcher-${++this.count}.log`);
    const stderr = openSync(logPath, 'a');
    const env = faked ? { ...this.env, ...this.clockEnv } : this.env;
    const child = spawn(process.execPath, [KANBAN, '--db', this.db, 'tui', '--no-ui'], { env, stdio: ['ignore', 'ignore', stderr] });
    closeSync(stderr);
    this.running.set(child, faked);
    child.on('exit', (code, signal) => {
      this.running.delete(child);
      if (this.stopping || this.killed.has(child)) return;
      const tail = readFileSync(logPath, 'utf8').trim().split('\n').slice(-3).join(' | ');
      this.deaths.push(`dispatcher ${child.pid} exited on its own (${signal ?? `code ${code}`}): ${tail}`);
      this.start(faked);
    });
  }

  all(): ChildProcess[] {
    return [...this.running.keys()];
  }

  /** SIGKILLs one and starts another like it (with a stepped clock if it had one). */
  kill(child: ChildProcess): void {
    const faked = this.running.get(child) ?? false;
    this.killed.add(child);
    child.kill('SIGKILL');
    this.start(faked);
  }

  /** SIGINT (after a SIGCONT, should one still be stopped), SIGKILL if one has not exited 15 s later. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.all().map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.on('exit', resolve));
        child.kill('SIGCONT');
        child.kill('SIGINT');
        if ((await Promise.race([exited, sleep(15_000).then(() => 'late')])) === 'late') {
          child.kill('SIGKILL');
          await exited;
        }
      }),
    );
  }
}

/** No event written for STALL_MS (the timeline holds the latest event id at each tick). */
function stalled(timeline: Array<[number, number]>, now: number): boolean {
  const latest = timeline.at(-1)?.[1];
  const since = timeline.find(([, id]) => id === latest)?.[0];
  return since !== undefined && now - since >= STALL_MS;
}

/** Tasks that will not move again: done, blocked by the breaker, or todo behind a task the breaker blocked. */
function finalTasks(store: Store): { final: Set<string>; tasks: Task[] } {
  const tasks: Task[] = listTasks(store, { statuses: [...STATUSES] }); // with their links, read in the same snapshot
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const stuckBehindBreaker = (id: string, seen = new Set<string>()): boolean =>
    (byId.get(id)?.parents ?? []).some((p) => !seen.has(p) && (byId.get(p)?.status === 'blocked' || (byId.get(p)?.status === 'todo' && stuckBehindBreaker(p, seen.add(p)))));
  const final = new Set(tasks.filter((t) => t.status === 'done' || t.status === 'blocked' || (t.status === 'todo' && stuckBehindBreaker(t.id))).map((t) => t.id));
  return { final, tasks };
}

function progress(store: Store): { finished: number; running: number; settled: boolean } {
  const { final, tasks } = finalTasks(store);
  const open = openRuns(store).length;
  return { finished: final.size, running: open, settled: final.size === tasks.length && open === 0 };
}

// ---- the monkey: one injector per fault ----

interface Monkey {
  store: Store;
  pool: DispatcherPool;
  /** Runs whose worker or supervisor the monkey killed or froze: their failures are the monkey's. */
  touched: Set<number>;
  kills: ChaosReport['kills'];
  faults: FaultCounts;
  /** The window fault under way (one at a time, at least WINDOW_GAP_MS apart), if any, and when the last one ended. */
  window: string | null;
  windowEndedAt: number;
  /** Every window fault as it happened, and dispatchers' freezes and kills, in harness time: to tell what a charged failure followed. */
  windows: Array<{ name: string; from: number; to: number; dispatcher?: true }>;
  /** [harness time, latest event id] at each tick: which events a window saw. */
  timeline: Array<[number, number]>;
  log: (line: string) => void;
}

interface Tick {
  now: number;
  /** The part of the board that is final. */
  finished: number;
  /** Kills and freezes happen only while this holds (most of the board unfinished); window faults have WINDOWS_UNTIL. */
  active: boolean;
  /** The runs open now. */
  open: RunRow[];
}

interface Injector {
  tick(tick: Tick): void;
  /** Undoes whatever is still in force (in the run's finally). */
  restore(): void;
}

/** A pid of the run's worker or supervisor that is still the run's (a reused pid is never signalled). */
function runPid(run: RunRow, which: 'worker' | 'supervisor'): number | null {
  const pid = which === 'worker' ? run.worker_pid : run.supervisor_pid;
  return isRunProcess(pid, { taskId: run.task_id, runId: run.id }) ? pid : null;
}

/** SIGKILLs a worker (15% of ticks) or a supervisor (8%) of a random open run, or a dispatcher (3%), which is replaced. */
function killInjector(monkey: Monkey, random: () => number): Injector {
  return {
    tick({ now, active, open }) {
      if (!active) return;
      const pick = open[Math.floor(random() * open.length)];
      const roll = random();
      const worker = pick && roll < 0.15 ? runPid(pick, 'worker') : null;
      const supervisor = pick && roll >= 0.15 && roll < 0.23 ? runPid(pick, 'supervisor') : null;
      if (worker !== null || supervisor !== null) {
        try {
          process.kill((worker ?? supervisor)!, 'SIGKILL');
        } catch {
          return; // it ended meanwhile
        }
        monkey.touched.add(pick!.id);
        if (worker !== null) monkey.kills.workers++;
        else monkey.kills.supervisors++;
      } else if (roll > 0.97) {
        const dispatchers = monkey.pool.all();
        monkey.pool.kill(dispatchers[Math.floor(random() * dispatchers.length)]!);
        monkey.kills.dispatchers++;
        monkey.windows.push({ name: 'dispatcher killed', from: now, to: now, dispatcher: true });
      }
    },
    restore() {},
  };
}

/** SIGSTOPs a dispatcher, a supervisor or a worker (8% of ticks, at most two at once) for 1–4 s, then SIGCONTs it. */
function freezeInjector(monkey: Monkey, random: () => number): Injector {
  let frozen: Array<{ pid: number; until: number }> = [];
  const thaw = (pid: number) => {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // gone meanwhile (killed while stopped)
    }
  };
  return {
    tick({ now, active, open }) {
      for (const f of frozen) if (f.until <= now) thaw(f.pid);
      frozen = frozen.filter((f) => f.until > now);
      const roll = random();
      const kind = (['dispatchers', 'supervisors', 'workers'] as const)[Math.floor(random() * 3)]!;
      const pick = random();
      const ms = 1000 + Math.floor(random() * 3000);
      if (!active || frozen.length >= 2 || roll >= 0.08) return;
      let pid: number | null | undefined;
      let run: RunRow | undefined;
      if (kind === 'dispatchers') {
        const dispatchers = monkey.pool.all();
        pid = dispatchers[Math.floor(pick * dispatchers.length)]?.pid;
      } else {
        run = open[Math.floor(pick * open.length)];
        pid = run && runPid(run, kind === 'workers' ? 'worker' : 'supervisor');
      }
      if (pid === null || pid === undefined) return;
      try {
        process.kill(pid, 'SIGSTOP');
      } catch {
        return;
      }
      frozen.push({ pid, until: now + ms });
      if (run) monkey.touched.add(run.id);
      else monkey.windows.push({ name: 'dispatcher frozen', from: now, to: now + ms, dispatcher: true });
      monkey.faults.freezes[kind]++;
    },
    restore() {
      for (const f of frozen) thaw(f.pid);
      frozen = [];
    },
  };
}

interface Window {
  name: string;
  /** Starts once this part of the board is final. */
  at: number;
  holdMs: number;
  begin(): boolean;
  end(): void;
}

/** Between two window faults: so that the effects of one are over (mostly) before the next begins. */
const WINDOW_GAP_MS = 6000;
/** A failure recorded this long after a window fault ended may still be its doing. */
const AFTERMATH_MS = 8000;
/** Window faults queue behind each other (a small board finishes a third of its tasks during one): they may begin until this part of the board is final. */
const WINDOWS_UNTIL = 0.95;

/**
 * Windows of a fault, one after another, each begun once its share of the board is final (and no
 * other window is open, nor closed less than WINDOW_GAP_MS ago, and the board not nearly finished),
 * held for its time, then ended; one still open is ended by restore.
 */
function windows(monkey: Monkey, plan: Window[]): Injector {
  const pending = [...plan].sort((a, b) => a.at - b.at);
  let current: { window: Window; from: number; until: number } | null = null;
  const close = () => {
    if (!current) return;
    current.window.end();
    monkey.windows.push({ name: current.window.name, from: current.from, to: Date.now() });
    monkey.log(`  ${current.window.name}: over`);
    current = null;
    monkey.window = null;
    monkey.windowEndedAt = Date.now();
  };
  return {
    tick({ now, finished }) {
      if (current && current.until <= now) close();
      const next = pending[0];
      if (current || !next || finished < next.at || finished >= WINDOWS_UNTIL || monkey.window !== null || now - monkey.windowEndedAt < WINDOW_GAP_MS) return;
      pending.shift();
      if (!next.begin()) return;
      monkey.log(`  ${next.name} for ${(next.holdMs / 1000).toFixed(1)}s`);
      current = { window: next, from: now, until: now + next.holdMs };
      monkey.window = next.name;
    },
    restore: close,
  };
}

const holdMs = (random: () => number) => 3000 + Math.floor(random() * 2000);

/** Once or twice, the board's file system filled to ENOSPC with a ballast file for 3–5 s, then the ballast deleted. */
function diskFullInjector(monkey: Monkey, boardPath: string, random: () => number): Injector {
  const ballast = join(boardPath, 'ballast');
  const count = random() < 0.5 ? 1 : 2;
  const plan = Array.from({ length: count }, (_, i): Window => ({
    name: 'disk full',
    at: 0.1 + 0.35 * i + random() * 0.25,
    holdMs: holdMs(random),
    begin() {
      const bytes = fillUntilFull(ballast);
      monkey.faults.diskFull++;
      monkey.log(`  ballast of ${Math.round(bytes / 1048576)} MB`);
      return true;
    },
    end: () => rmSync(ballast, { force: true }),
  }));
  return windows(monkey, plan);
}

/** Writes zeros to `path` until the file system is full; returns how many bytes it took. */
function fillUntilFull(path: string): number {
  const chunk = Buffer.alloc(1 << 20);
  const fd = openSync(path, 'w');
  let written = 0;
  try {
    for (;;) written += writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    try {
      for (;;) written += writeSync(fd, chunk, 0, 4096); // the last pages
    } catch {
      // full
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

/**
 * Once, 3–5 s during which the board's folder is read-only. `mount -o remount,ro` is refused (EBUSY)
 * while any process has a file open for writing there, and the board always is: so a read-only bind
 * of the folder is mounted over it, then lazily unmounted. Files opened during the window (a new
 * supervisor's connection, a task log, a workspace) are read-only, for as long as they stay open;
 * those opened before keep writing.
 */
function readOnlyInjector(monkey: Monkey, boardPath: string, random: () => number): Injector {
  const window: Window = {
    name: 'read-only',
    at: 0.25 + random() * 0.4,
    holdMs: holdMs(random),
    begin() {
      try {
        execFileSync('mount', ['--bind', '-o', 'ro', boardPath, boardPath], { stdio: 'pipe' });
      } catch (err) {
        monkey.log(`  read-only window not made: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`);
        return false;
      }
      monkey.faults.readOnly++;
      return true;
    },
    end() {
      execFileSync('umount', ['-l', boardPath], { stdio: 'pipe' });
    },
  };
  return windows(monkey, [window]);
}

/** The clock of the preloaded processes stepped forward 2 h for 3–5 s, later back 10 min for 3–5 s, each time then back to +0. */
function clockStepInjector(monkey: Monkey, file: string, random: () => number): Injector {
  const step = (offset: string, at: number): Window => ({
    name: `clock ${offset}`,
    at,
    holdMs: holdMs(random),
    begin() {
      writeOffset(file, offset);
      monkey.faults.clockSteps.push(offset);
      return true;
    },
    end: () => writeOffset(file, '+0'),
  });
  return windows(monkey, [step('+2h', 0.15 + random() * 0.3), step('-10m', 0.5 + random() * 0.25)]);
}

/** Replaced in one rename: the shim rereads the file every 10 ms and must never see it half written. */
function writeOffset(file: string, offset: string): void {
  writeFileSync(`${file}.new`, `${offset}\n`);
  renameSync(`${file}.new`, file);
}

// ---- the machine: the board's folder, the fake clock, the processes left ----

interface BoardFolder {
  path: string;
  mounted: boolean;
  why: string;
  unmount(): void;
}

/** The board's folder, on a tmpfs of its own when a disk fault needs one (root only), else a plain folder. */
function boardFolder(path: string, wanted: boolean, notes: string[]): BoardFolder {
  mkdirSync(path, { recursive: true });
  const plain = (why: string): BoardFolder => ({ path, mounted: false, why, unmount() {} });
  if (!wanted) return plain('not asked for');
  if (process.getuid?.() !== 0) return plain('not running as root (they need a tmpfs mount)');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE}`, 'tmpfs', path], { stdio: 'pipe' });
  } catch (err) {
    return plain(`cannot mount a tmpfs: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`);
  }
  notes.push(`board on a ${TMPFS_SIZE} tmpfs at ${path}`);
  return {
    path,
    mounted: true,
    why: '',
    unmount() {
      // A read-only bind left over the folder comes off first; then the tmpfs (lazily, should anything still hold it).
      for (let left = mountsAt(path); left > 0; left--) {
        try {
          execFileSync('umount', [path], { stdio: 'pipe' });
        } catch {
          execFileSync('umount', ['-l', path], { stdio: 'pipe' });
        }
      }
    },
  };
}

function mountsAt(path: string): number {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => line.split(' ')[4] === path).length;
}

/**
 * The environment that gives a process a clock read from `file` (`+0`, `+2h`, `-10m`), after checking
 * with a tiny node script that it moves Date.now() and not performance.now() (the monotonic clock
 * must not step: Node aborts when its timer base goes backwards).
 */
function steppedClock(file: string, dir: string, notes: string[]): { file: string; env: Record<string, string>; notes: string[] } | null {
  const lib = compileSharedObject(fileURLToPath(new URL('./clock-step.c', import.meta.url)), join(dir, 'clock-step.so'), ['-ldl']);
  if (!lib) {
    notes.push('clock steps skipped: no C compiler to build chaos/clock-step.c');
    return null;
  }
  const env = { LD_PRELOAD: lib, KANBAN_CLOCK_STEP_FILE: file };
  writeOffset(file, '+0');
  // The shim rereads the file every 10 ms: the probe waits 50 ms after the step.
  const probe = `const fs = require('fs'); const d0 = Date.now(), p0 = performance.now();
    fs.writeFileSync(process.argv[1] + '.new', '+2h\\n'); fs.renameSync(process.argv[1] + '.new', process.argv[1]);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    const d1 = Date.now(), p1 = performance.now(); console.log(JSON.stringify({ date: d1 - d0, perf: p1 - p0 }));`;
  try {
    const out = execFileSync(process.execPath, ['-e', probe, file], { env: { ...cleanEnv(), ...env }, encoding: 'utf8', timeout: 10_000 });
    const { date, perf } = JSON.parse(out) as { date: number; perf: number };
    if (Math.abs(date - 7_200_000) > 60_000 || perf > 60_000) {
      notes.push(`clock steps skipped: under the clock-step shim a +2h step moved Date.now() by ${date} ms and performance.now() by ${Math.round(perf)} ms`);
      return null;
    }
    return { file, env, notes: [`clock-step probe: a +2h step moved Date.now() by ${(date / 3_600_000).toFixed(2)} h and performance.now() by ${Math.round(perf)} ms`] };
  } catch (err) {
    notes.push(`clock steps skipped: the clock-step probe failed (${String(err).split('\n')[0]})`);
    return null;
  } finally {
    writeOffset(file, '+0');
  }
}


interface Leftover {
  pid: number;
  kind: string;
  runId: number | null;
  cmdline: string;
}

/** Every other process's environment and command line (Linux /proc). */
function* allProcesses(): Generator<{ pid: number; environ: string[]; cmdline: string[] }> {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${name}/environ`, 'latin1').split('\0');
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'latin1').split('\0').filter(Boolean);
      yield { pid: Number(name), environ, cmdline };
    } catch {
      // gone meanwhile
    }
  }
}

/** Processes of this chaos run (the board or the config in their environment, or the marker in their argv), but those of runs still open. */
function findLeftovers(store: Store, db: string, config: string, marker: string): Leftover[] {
  const open = new Set(openRuns(store).map((run) => String(run.id)));
  const leftovers: Leftover[] = [];
  for (const { pid, environ, cmdline } of allProcesses()) {
    const tagged = cmdline.indexOf(marker);
    if (tagged < 0 && !environ.includes(`KANBAN_DB=${db}`) && !environ.includes(`KANBAN_CONFIG=${config}`)) continue;
    // A leftover started by a chaos worker says `<behaviour>:<task>:<run>` after the marker.
    const tag = tagged >= 0 ? cmdline[tagged + 1]?.split(':') : undefined;
    const runId = tag?.[2] ?? environ.find((e) => e.startsWith('KANBAN_RUN_ID='))?.slice('KANBAN_RUN_ID='.length) ?? null;
    if (runId !== null && open.has(runId)) continue;
    const kind = tag?.[0] ?? (cmdline.includes('worker') && cmdline.includes('run') ? 'supervisor' : cmdline.includes('tui') ? 'dispatcher' : cmdline.some((a) => a.endsWith('worker.mjs')) ? 'worker' : 'other');
    leftovers.push({ pid, kind, runId: runId === null ? null : Number(runId), cmdline: cmdline.join(' ').slice(0, 160) });
  }
  return leftovers;
}

/**
 * Stops every process working for this board (hung workers of the last moments, and any whose pid
 * was never recorded): one pass over /proc for the board in their environment, or `marker` (what a
 * chaos worker leaves behind carries it in its argv, whatever its environment) in their command line.
 */
export function killBoardProcesses(dbPath: string, marker?: string): number {
  let killed = 0;
  for (const { pid, environ, cmdline } of allProcesses()) {
    if (!environ.includes(`KANBAN_DB=${dbPath}`) && !(marker !== undefined && cmdline.includes(marker))) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed++;
    } catch {
      // gone meanwhile
    }
  }
  return killed;
}

// ---- the report ----

/** Outcomes that close a run with an event of the same kind, carrying the run's id. */
const OUTCOME_EVENTS = new Set(['completed', 'blocked', 'crashed', 'rate_limited', 'timed_out', 'stale', 'protocol_violation', 'spawn_failed', 'reclaimed']);
/** Events that close a run (the run's id on them): where it stopped counting as running. */
const END_EVENTS = new Set([...OUTCOME_EVENTS, 'review', 'hung']);

interface CheckInput {
  options: ChaosOptions;
  cap: number;
  profileCap: number | null;
  monkey: Monkey;
  samples: { max: number; profileMax: number };
  leftovers: Leftover[];
  deaths: string[];
  seconds: number;
  settled: boolean;
  notes: string[];
}

/** Most intervals open at once; at a tie, an end comes before a start ([start, end)). */
function maxOverlap(intervals: Array<[number, number]>): number {
  const points = intervals.flatMap(([start, end]): Array<[number, number]> => [[start, 1], [end, -1]]);
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let max = 0;
  for (const [, delta] of points) max = Math.max(max, (open += delta));
  return max;
}

function check(store: Store, input: CheckInput): ChaosReport {
  const { options, monkey } = input;
  const { final, tasks } = finalTasks(store);
  const byTask = [...tasks].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const runs: RunRow[] = byTask.flatMap((task) => runsForTask(store, task.id));
  const events = byTask
    .flatMap((task) => eventsForTask(store, task.id))
    .filter((e) => e.kind !== 'heartbeat')
    .sort((a, b) => a.id - b.id)
    .map((e) => ({ id: e.id, task_id: e.task_id, run_id: e.run_id, kind: e.kind, failures: typeof e.payload.failures === 'number' ? e.payload.failures : null }));
  const runsOf = new Map<string, RunRow[]>();
  for (const run of runs) runsOf.set(run.task_id, [...(runsOf.get(run.task_id) ?? []), run]);
  const eventsOf = new Map<string, typeof events>();
  for (const e of events) eventsOf.set(e.task_id, [...(eventsOf.get(e.task_id) ?? []), e]);

  const examples: string[] = [];
  const clockDisorder = new Set<number>(runs.filter((r) => r.ended_at !== null && r.ended_at < r.started_at).map((r) => r.id));
  const shown = new Map<string, number>();
  const note = (topic: string, text: string) => {
    if ((shown.get(topic) ?? 0) >= 3) return;
    shown.set(topic, (shown.get(topic) ?? 0) + 1);
    examples.push(text);
  };
  const violations: ChaosReport['violations'] = {
    unsettled: 0, open_runs: 0, overlapping_runs: 0, double_completed: 0, events_disagree: 0, integrity: 0,
    over_cap: 0, over_profile_cap: 0, processes_left: 0, infra_charged: 0,
  };

  // The order the board committed claims and endings in: event ids, whatever clock each writer had.
  const claimedAt = new Map<number, number>();
  const endedAt = new Map<number, number>();
  for (const e of events) {
    if (e.run_id === null) continue;
    if (e.kind === 'claimed') claimedAt.set(e.run_id, e.id);
    else if (END_EVENTS.has(e.kind) && !endedAt.has(e.run_id)) endedAt.set(e.run_id, e.id);
  }

  // What each run was meant to do: the worker's behaviour for its attempt (its place among the task's runs).
  const intended = new Map<number, string>();
  for (const taskRuns of runsOf.values()) {
    taskRuns.forEach((run, i) => intended.set(run.id, behaviourOf(options.seed, run.task_id, i + 1, options.faults?.escapes ?? ALL_FAULTS.escapes).behaviour));
  }

  for (const task of tasks) {
    const taskRuns = runsOf.get(task.id) ?? [];
    const taskEvents = eventsOf.get(task.id) ?? [];
    if (!final.has(task.id)) {
      violations.unsettled++;
      note('unsettled', `${task.id} did not settle: ${task.status}`);
    }
    for (let i = 1; i < taskRuns.length; i++) {
      const [previous, run] = [taskRuns[i - 1]!, taskRuns[i]!];
      if (!endedAt.has(previous.id) || (claimedAt.get(run.id) ?? Infinity) < endedAt.get(previous.id)!) {
        violations.overlapping_runs++;
        note('overlapping', `${task.id}: run ${run.id} was claimed before run ${previous.id} ended`);
      }
      if (previous.ended_at === null || run.started_at < previous.ended_at) clockDisorder.add(run.id);
    }
    if (taskRuns.filter((r) => r.outcome === 'completed').length > 1) {
      violations.double_completed++;
      note('double', `${task.id} has ${taskRuns.filter((r) => r.outcome === 'completed').length} completed runs`);
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
      note('events', `${task.id}: ${disagreements.join('; ')}`);
    }
  }
  violations.open_runs = runs.filter((r) => r.status === 'running').length;
  if (!integrityOk(store)) violations.integrity = 1;

  // Running at once. Exactly: a run counts from its claim's commit to its ending's.
  const byCommit = (filter: (r: RunRow) => boolean) =>
    maxOverlap(runs.filter((r) => filter(r) && claimedAt.has(r.id)).map((r) => [claimedAt.get(r.id)!, endedAt.get(r.id) ?? Infinity]));
  const max = byCommit(() => true);
  const maxByTimestamps = maxOverlap(runs.map((r) => [r.started_at, r.ended_at ?? Infinity]));
  const profileMax = input.profileCap === null ? 0 : byCommit((r) => r.profile === PROFILE_B);
  violations.over_cap = Math.max(0, max - input.cap);
  violations.over_profile_cap = input.profileCap === null ? 0 : Math.max(0, profileMax - input.profileCap);

  // Infrastructure charged to tasks: a counted failure of a run meant to succeed that the monkey did not touch.
  const runById = new Map(runs.map((r) => [r.id, r]));
  const chargedKinds: string[] = [];
  const chargedWindows: string[] = [];
  const chargedTasks = new Set<string>();
  const idAt = (time: number) => monkey.timeline.filter(([at]) => at <= time).at(-1)?.[1] ?? 0;
  const windowIds = monkey.windows.map((w) => ({ ...w, first: idAt(w.from) + 1, last: idAt(w.to + AFTERMATH_MS) }));
  /** The window faults an event followed; failing those, the dispatchers frozen or killed; else `no window`. */
  const causes = (id: number) => {
    const seen = windowIds.filter((w) => id >= w.first && id <= w.last);
    const named = (ws: typeof seen) => [...new Set(ws.map((w) => w.name))].join(' + ');
    return named(seen.filter((w) => !w.dispatcher)) || named(seen) || 'no window';
  };
  for (const e of events) {
    if (e.run_id === null || e.failures === null || !COUNTED_KINDS.includes(e.kind)) continue;
    const meant = intended.get(e.run_id);
    if (meant === undefined || !SUCCESSES.has(meant) || monkey.touched.has(e.run_id)) continue;
    const during = causes(e.id);
    chargedKinds.push(e.kind);
    chargedWindows.push(during);
    chargedTasks.add(e.task_id);
    note(`charged ${during}`, `run ${e.run_id} of ${e.task_id} (meant: ${meant}) charged ${e.kind} (failure ${e.failures}, ${during}): ${runById.get(e.run_id)?.error ?? ''}`);
  }
  violations.infra_charged = chargedKinds.length;
  const blockedByInfra = tasks.filter((t) => t.status === 'blocked' && chargedTasks.has(t.id)).length;

  violations.processes_left = input.leftovers.length;
  for (const p of input.leftovers) {
    const run = p.runId === null ? undefined : runById.get(p.runId);
    note(`leftover ${p.kind}`, `left alive: pid ${p.pid} (${p.kind}${run ? `, run ${run.id} ${run.outcome ?? 'open'}${monkey.touched.has(run.id) ? ', touched by the monkey' : ''}` : ''}): ${p.cmdline}`);
  }
  for (const death of input.deaths) note('death', death);

  const count = (values: string[]) => values.reduce<Record<string, number>>((acc, v) => ({ ...acc, [v]: (acc[v] ?? 0) + 1 }), {});
  const meantAll = runs.map((r) => intended.get(r.id)!);
  return {
    seed: options.seed,
    tasks: tasks.length,
    seconds: Math.round(input.seconds),
    settled: input.settled,
    dispatchers: options.dispatchers,
    runs: count(runs.map((r) => r.outcome ?? 'open')),
    intended: count(meantAll),
    kills: monkey.kills,
    faults: { ...monkey.faults, escapes: count(meantAll.filter((b) => ESCAPE_KINDS.has(b))) },
    dispatcherDeaths: input.deaths.length,
    concurrency: {
      cap: input.cap,
      max,
      maxByTimestamps,
      maxSampled: input.samples.max,
      profile: input.profileCap === null ? null : { name: PROFILE_B, cap: input.profileCap, max: profileMax, maxSampled: input.samples.profileMax },
    },
    leftovers: { count: input.leftovers.length, byKind: count(input.leftovers.map((p) => p.kind)) },
    charged: { runs: chargedKinds.length, byKind: count(chargedKinds), byWindow: count(chargedWindows), blockedTasks: blockedByInfra },
    clockDisorder: clockDisorder.size,
    final: count(tasks.map((t) => t.status)),
    violations,
    notes: input.notes,
    examples,
  };
}

export function formatReport(report: ChaosReport): string {
  const runs = Object.values(report.runs).reduce((a, b) => a + b, 0);
  const list = (counts: Record<string, number>) => Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  const paren = (counts: Record<string, number>) => (Object.keys(counts).length > 0 ? ` (${list(counts)})` : '');
  const { concurrency: c, faults: f } = report;
  return [
    `chaos seed ${report.seed}: ${report.tasks} tasks, ${runs} runs, ${report.dispatchers} dispatchers, ${report.seconds}s, ${report.settled ? 'settled' : 'DID NOT SETTLE'}`,
    `  runs by outcome: ${list(report.runs)}`,
    `  runs meant to: ${list(report.intended)}`,
    `  kills: ${report.kills.workers} workers, ${report.kills.supervisors} supervisors, ${report.kills.dispatchers} dispatchers (each replaced)`,
    `  freezes (SIGSTOP 1–4 s): ${f.freezes.dispatchers} dispatchers, ${f.freezes.supervisors} supervisors, ${f.freezes.workers} workers`,
    `  disk-full windows ${f.diskFull}, read-only windows ${f.readOnly}, clock steps ${f.clockSteps.length > 0 ? f.clockSteps.join(', ') : 'none'}`,
    `  escapes: ${list(f.escapes)}`,
    `  dispatchers that exited on their own ${report.dispatcherDeaths} (each restarted)`,
    `  max running at once ${c.max} (cap ${c.cap}); by started_at/ended_at ${c.maxByTimestamps}, sampled ${c.maxSampled}`,
    ...(c.profile ? [`  max running at once with profile ${c.profile.name} ${c.profile.max} (cap ${c.profile.cap}); sampled ${c.profile.maxSampled}`] : []),
    `  processes left after the end ${report.leftovers.count}${paren(report.leftovers.byKind)}`,
    `  runs charged to tasks for infrastructure faults ${report.charged.runs}${paren(report.charged.byKind)}${report.charged.runs > 0 ? `; during or ≤8 s after: ${list(report.charged.byWindow)}` : ''}`,
    `  tasks blocked by infrastructure ${report.charged.blockedTasks}`,
    `  overlapping runs ${report.violations.overlapping_runs} (by commit order); runs out of order by their timestamps ${report.clockDisorder}`,
    `  final: ${list(report.final)}`,
    `  invariants (each must be 0): ${list(report.violations)}`,
    ...report.notes.map((n) => `  note: ${n}`),
    ...report.examples.map((e) => `  ${e}`),
  ].join('\n');
}
