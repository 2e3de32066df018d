import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, cpSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isRunProcess } from '../src/dispatcher/processes.js';
import { openStore, type Store } from '../src/store/db.js';
import { SqliteBoard } from '../src/store/sqlite-board.js';
import { openBoard } from '../src/port/open.js';
import { SHIPPED_LOG_MAX_BYTES, type BoardStore } from '../src/port/board.js';
import { taskLogPath } from '../src/workers/runlog.js';
import { claimHost } from '../src/core/run.js';
import { integrityOk } from '../test/helpers/sqlite-hooks.js';
import { STATUSES, type RunRow, type Task } from '../src/core/types.js';
import type { BatchItem } from '../src/port/types.js';
import { compileSharedObject } from '../test/helpers/native.js';
import { cleanEnv } from '../test/helpers/processes.js';
import { startPostgres, withClient, withDatabase, type TestPostgres } from '../test/helpers/postgres.js';
import { behaviourOf, daemonMarker, ESCAPE_KINDS, SUCCESSES } from './behaviour.mjs';
import { monotonicMs, NetnsNetwork, netnsUnavailable, Observer, ProxyNetwork, type HostNetwork, type WorkerLife } from './network.js';

/**
 * The chaos run: many tasks (some in dependency chains), several dispatchers under a cap, workers that
 * complete, fail, are rate limited, hang past their lease, stay silent, print steadily, are SIGKILLed
 * or leave processes behind (chaos/behaviour.mjs); and a monkey that injects faults while most of the
 * board is unfinished: SIGKILLs (each dead dispatcher replaced), SIGSTOP freezes, a full disk, a
 * read-only window, clock steps. When it settles, the board and the machine are checked against the
 * promises (`check`, the one place the report is computed).
 *
 * On PostgreSQL (`postgres`), the board is a database of its own on a server, and the dispatchers
 * belong to several hosts (chaos/network.ts): each a host id, a KANBAN_HOME and a boot id of its own,
 * in a network namespace reaching the server over a veth (or through a proxy of its own). The monkey
 * then also kills whole hosts (every process of the host at once, the host started again later with
 * a new boot id) and cuts a host off from the server for longer than the lease (a partition).
 *
 * Every worker tells the witness (chaos/witness.mjs) when it starts, and the witness sees when it
 * exits: the workers' real lifetimes, against which "no two runs of a task at once" is checked as
 * well as against the order the board committed them in.
 */

export interface ChaosFaults {
  /** SIGKILL workers, supervisors and dispatchers (each dispatcher replaced). */
  kills: boolean;
  /** SIGSTOP a dispatcher, supervisor or worker for 1–4 s, then SIGCONT. */
  freezes: boolean;
  /** Workers that leave processes behind: setsid daemons (one without KANBAN_* variables), a child ignoring SIGTERM. */
  escapes: boolean;
  /** The board's folder on a 64 MB tmpfs, filled to ENOSPC for 3–5 s, once or twice (root only; a SQLite board only). */
  diskFull: boolean;
  /** A read-only window of 3–5 s on the board's folder (root only; a SQLite board only; see readOnlyInjector). */
  readOnly: boolean;
  /**
   * The machine's clock steps (chaos/clock-step.c, preloaded): +2h, then −10 min, 3–5 s each, for every
   * dispatcher and what it starts; on PostgreSQL, for one host at a time (its clock disagrees with the others' and the server's).
   */
  clockSteps: boolean;
  /** PostgreSQL: every process of one host SIGKILLed at once, the host started again 0.2–1 s or 2–6 s later with a new boot id. */
  hostKills: boolean;
  /** PostgreSQL: one host cut off from the server for two to three and a half leases, then let through again. */
  partitions: boolean;
}

export const ALL_FAULTS: ChaosFaults = { kills: true, freezes: true, escapes: true, diskFull: true, readOnly: true, clockSteps: true, hostKills: true, partitions: true };

export interface PostgresChaos {
  /** The server to make the run's database on (default: a throwaway one, as the tests start; KANBAN_TEST_POSTGRES_URL names one too). */
  url?: string;
  /** How many hosts (default 3), each with `dispatchers` dispatchers. */
  hosts?: number;
  /**
   * How the hosts reach the server (chaos/network.ts): `netns` (a network namespace and a veth each;
   * root), `proxy` (a TCP proxy each in the harness), `auto` (default): netns when it can be made and
   * the server is the run's own, else proxy.
   */
  network?: 'auto' | 'netns' | 'proxy';
  /** The lease (claim_ttl_seconds; default 4 s): a partition lasts 2–3.5 of them. */
  leaseSeconds?: number;
  /** How many host kills and partitions (default: 1 each up to 100 tasks, else 3 and 2). */
  hostKills?: number;
  partitions?: number;
  /** How long a partition that is due waits for a host running a worker that would outlive its lease (default 20 s). */
  partitionPatienceSeconds?: number;
}

export interface ChaosOptions {
  tasks: number;
  /** Dispatchers (on PostgreSQL: per host). */
  dispatchers: number;
  seed: number;
  /** Give up (and report what had not settled) after this long. */
  timeoutMs: number;
  /** The board's max_in_progress (default 8). */
  cap?: number;
  /** max_in_progress of a second profile, `chaos-b`, which a quarter of the tasks are assigned to (default 3; null: no second profile). */
  profileCap?: number | null;
  /** Which faults to inject (default: all that apply to the board). */
  faults?: Partial<ChaosFaults>;
  /**
   * How many dispatchers (and what they start) see the clock steps: default all of them, as a step of
   * one machine's clock is seen by all its processes at once. Fewer models clocks that disagree
   * (dispatchers on several hosts), which a board on one machine never has. (SQLite only: on
   * PostgreSQL every host has a clock of its own.)
   */
  clockDispatchers?: number;
  /** A PostgreSQL board shared by several hosts, instead of a SQLite file. */
  postgres?: PostgresChaos;
  log?: (line: string) => void;
}

export interface ChaosReport {
  seed: number;
  backend: 'sqlite' | 'postgres';
  tasks: number;
  seconds: number;
  settled: boolean;
  /** Every dispatcher at once (on PostgreSQL: of every host). */
  dispatchers: number;
  /** PostgreSQL: the hosts, and how they reach the server; null on SQLite. */
  hosts: { count: number; network: string; leaseSeconds: number; onBoard: string[] } | null;
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
    /** The most workers alive at once, by the witness (a worker being stopped still counts). */
    maxWorkers: number;
    profile: { name: string; cap: number; max: number; maxSampled: number } | null;
  };
  /** The workers' real lifetimes (the witness): how many were seen, runs with a worker the witness never heard from. */
  workers: { witnessed: number; unwitnessed: number };
  /** How runs were taken back on PostgreSQL: at a host's restart (its new boot), by another host once the lease ran out, by the run's own supervisor before it did. */
  takenBack: { atRestart: number; byOtherHost: number; leaseLost: number } | null;
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
    /** Two runs of a task whose workers were alive at the same time (the witness), whatever the board recorded. */
    overlapping_workers: number;
    double_completed: number;
    events_disagree: number;
    integrity: number;
    over_cap: number;
    over_profile_cap: number;
    processes_left: number;
    infra_charged: number;
    /** PostgreSQL: hosts the board does not know with the boot id they last started with. */
    hosts_wrong_boot: number;
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
  /** PostgreSQL: each host killed (every process of it at once), how many processes, the runs it had open, and how long it stayed down. */
  hostKills: Array<{ host: number; processes: number; runs: number; downSeconds: number }>;
  /** PostgreSQL: each host cut off from the server, the runs it had open, and for how long. */
  partitions: Array<{ host: number; runs: number; seconds: number; outcomes: Record<string, number> }>;
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
/** PostgreSQL: the lease, unless asked otherwise. */
const PG_LEASE_SECONDS = 4;

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

/** Where the board is and who dispatches on it: a SQLite file and one set of dispatchers, or a PostgreSQL database and hosts. */
interface Setup {
  board: BoardStore;
  /** The SQLite board's connection (its integrity is checked at the end); null on PostgreSQL. */
  store: Store | null;
  hosts: Host[];
  /** The KANBAN_DB values of this run's processes (the board's file, or every host's URL). */
  locations: string[];
  network: HostNetwork | null;
  notes: string[];
  /** Where the board is kept when it is (a PostgreSQL board: a pg_dump in the run's folder). */
  keptAt: string;
  /** Closes the board; a PostgreSQL board's database is dropped unless `keep` (then dumped to keptAt), and a throwaway server stopped. */
  close(keep: boolean): Promise<void>;
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => {});
  const postgres = options.postgres ?? null;
  const faults = { ...ALL_FAULTS, ...options.faults };
  if (postgres) {
    // The board lives on the server: its disk is not the run's to fill or make read-only.
    faults.diskFull = false;
    faults.readOnly = false;
  } else {
    faults.hostKills = false;
    faults.partitions = false;
  }
  const cap = options.cap ?? 8;
  const profileCap = options.profileCap === undefined ? 3 : options.profileCap;
  const notes: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'kanban-chaos-'));
  const token = basename(dir).replace(/^kanban-chaos-/, '');
  const marker = daemonMarker(options.seed, token);
  const board = boardFolder(join(dir, 'board'), faults.diskFull || faults.readOnly, notes);
  if (!board.mounted && !postgres) {
    if (faults.diskFull) notes.push(`disk-full windows skipped: ${board.why}`);
    if (faults.readOnly) notes.push(`read-only window skipped: ${board.why}`);
  }
  const clock = faults.clockSteps ? steppedClock(join(dir, 'clock-offset'), dir, notes) : null;
  const db = join(board.path, 'board.db');
  const config = join(dir, 'config.yaml');
  const leaseSeconds = postgres?.leaseSeconds ?? PG_LEASE_SECONDS;
  writeConfig(config, cap, profileCap, postgres ? leaseSeconds : null);
  const witness = join(dir, 'witness.sock');
  const env = {
    ...cleanEnv(),
    KANBAN_CONFIG: config,
    KANBAN_CHAOS_SEED: String(options.seed),
    KANBAN_CHAOS_TOKEN: token,
    KANBAN_CHAOS_ESCAPES: faults.escapes ? '1' : '0',
    KANBAN_CHAOS_WITNESS: witness,
  };

  let kept: string | null = null;
  let setup: Setup | null = null;
  let observer: Observer | null = null;
  const deaths: string[] = [];
  try {
    observer = await Observer.start(witness);
    setup = postgres
      ? await postgresSetup({ options, postgres, dir, token, env, clock, observer, deaths })
      : await sqliteSetup({ options, db, dir, env, clock, deaths });
    notes.push(...setup.notes);
    const { hosts } = setup;
    try {
      // A board whose run must see host faults holds part of itself back until each has begun: a small
      // board would otherwise finish first (each window waits for the one before it, and its gap).
      const hostFaults = postgres !== null && hosts.length > 1 && (faults.hostKills || faults.partitions);
      const created = await createBoard(setup.board, options, profileCap !== null, hostFaults ? Math.max(2, Math.round(options.tasks * HELD_BACK)) : 0);
      const { titles } = created;
      let heldBack = created.heldBack;
      const clockDispatchers = clock ? (postgres ? options.dispatchers : Math.min(options.dispatchers, options.clockDispatchers ?? options.dispatchers)) : 0;
      const startedMono = monotonicMs();
      const startedWall = Date.now();
      for (const host of hosts) host.start(clockDispatchers);
      const monkey: Monkey = {
        board: setup.board,
        hosts,
        network: setup.network,
        token,
        marker,
        touched: new Set(),
        supervisorKilled: new Set(),
        runHosts: new Map(),
        open: [],
        titles,
        kills: { workers: 0, supervisors: 0, dispatchers: 0 },
        faults: { freezes: { dispatchers: 0, supervisors: 0, workers: 0 }, diskFull: 0, readOnly: 0, clockSteps: [], escapes: {}, hostKills: [], partitions: [] },
        window: null,
        windowEndedAt: 0,
        windows: [],
        timeline: [],
        hostFaults: [],
        log,
      };
      const pgFaults = { hostKills: postgres?.hostKills ?? (options.tasks > 100 ? 3 : 1), partitions: postgres?.partitions ?? (options.tasks > 100 ? 2 : 1) };
      const injectors: Injector[] = [
        ...(faults.kills ? [killInjector(monkey, generatorFor(options.seed, 'kills'))] : []),
        ...(faults.freezes ? [freezeInjector(monkey, generatorFor(options.seed, 'freezes'))] : []),
        ...(faults.diskFull && board.mounted ? [diskFullInjector(monkey, board.path, generatorFor(options.seed, 'disk-full'))] : []),
        ...(faults.readOnly && board.mounted ? [readOnlyInjector(monkey, board.path, generatorFor(options.seed, 'read-only'))] : []),
        ...(clock && clockDispatchers > 0 ? [clockStepInjector(monkey, clock.file, generatorFor(options.seed, 'clock'), postgres ? generatorFor(options.seed, 'clock-host') : null)] : []),
        ...(hostFaults && faults.hostKills ? [hostKillInjector(monkey, pgFaults.hostKills, generatorFor(options.seed, 'host-kills'))] : []),
        ...(hostFaults && faults.partitions ? [partitionInjector(monkey, pgFaults.partitions, leaseSeconds * 1000, (postgres?.partitionPatienceSeconds ?? PARTITION_PATIENCE_MS / 1000) * 1000, generatorFor(options.seed, 'partitions'), options.seed, faults.escapes)] : []),
      ];
      if (postgres && !hostFaults && (faults.hostKills || faults.partitions)) notes.push('host kills and partitions skipped: they need two hosts at least (one must carry on)');
      if (!postgres && clockDispatchers > 0) notes.push(`${clockDispatchers} of ${options.dispatchers} dispatchers under the clock-step shim (their supervisors and workers inherit LD_PRELOAD)`);
      if (postgres && clockDispatchers > 0) notes.push('every host under the clock-step shim, each step on one host only (its supervisors and workers inherit LD_PRELOAD)');

      const started = Date.now();
      const samples = { max: 0, profileMax: 0 };
      let settledChecks = 0;
      let loggedAt = started;
      let leftovers: Leftover[] = [];
      try {
        while (Date.now() - started < options.timeoutMs) {
          await sleep(TICK_MS);
          const state = await progress(setup.board);
          const open = state.open;
          samples.max = Math.max(samples.max, open.length);
          samples.profileMax = Math.max(samples.profileMax, open.filter((r) => r.profile === PROFILE_B).length);
          monkey.timeline.push([Date.now(), (await setup.board.tasks.recentEvents({ last: 1 })).cursor]);
          noteHosts(monkey, open);
          // The monkey starts new faults until most of the board is finished or half the time is
          // gone, then lets it settle: on a slow machine, faults for as long as work remains would
          // feed on themselves (more faults, slower progress, more faults).
          const now = Date.now();
          const active = state.finished < 0.85 * options.tasks && now - started < options.timeoutMs / 2;
          const tick: Tick = { now, finished: state.finished / options.tasks, active, open };
          for (const injector of injectors) await injector.tick(tick);
          if (heldBack.length > 0 && (!injectors.some((injector) => injector.pending?.()) || !tick.active)) {
            notes.push(`${heldBack.length} tasks held back (in triage) until the host faults had begun, released at ${Math.round((now - started) / 1000)}s`);
            log(`  ${heldBack.length} tasks held back released`);
            while (heldBack.length > 0) await setup.board.transitions.promote(heldBack.shift()!);
          }
          settledChecks = state.settled && monkey.window === null ? settledChecks + 1 : 0;
          if (settledChecks >= 3) break;
          // Tasks held back for a fault still to begin are not a stall: they go at the latest once the faults stop.
          if (heldBack.length === 0 && stalled(monkey.timeline, tick.now)) {
            notes.push(`gave up after ${Math.round((tick.now - started) / 1000)}s: nothing happened on the board for ${STALL_MS / 1000}s`);
            break;
          }
          if (Date.now() - loggedAt >= 5000) {
            loggedAt = Date.now();
            log(`  ${Math.round((Date.now() - started) / 1000)}s: ${state.finished}/${options.tasks} finished, ${state.running} running${monkey.window ? `, ${monkey.window}` : ''}`);
          }
        }
      } finally {
        for (const injector of injectors) await injector.restore();
        // The product's own cleanup gets its grace with the dispatchers still running; then they stop.
        await sleep(LEFTOVER_GRACE_MS);
        await Promise.all(hosts.map((host) => host.pool.stop()));
        leftovers = findLeftovers(new Set((await setup.board.dispatch.openRuns()).map((run) => String(run.id))), setup.locations, config, marker);
        killChaosProcesses(setup.locations, config, marker);
      }
      const seconds = (Date.now() - started) / 1000;
      await sleep(500); // the witness sees the last workers' connections close
      const { lives } = await observer.lives();
      const report = await check(setup.board, {
        options,
        cap,
        profileCap,
        monkey,
        samples,
        leftovers,
        deaths,
        seconds,
        settled: settledChecks >= 3,
        notes: [...notes, ...(clock?.notes ?? [])],
        integrity: setup.store ? integrityOk(setup.store) : true,
        lives,
        startedMono,
        startedWall,
        postgres: postgres ? { leaseSeconds, network: setup.network!.describe() } : null,
      });
      if (Object.values(report.violations).some((n) => n > 0) || process.env.KANBAN_CHAOS_KEEP) {
        // A board on its own tmpfs is copied out (once closed) before the tmpfs goes.
        kept = postgres ? setup.keptAt : board.mounted ? join(dir, 'board-kept', 'board.db') : db;
        report.examples.push(`board kept for inspection: ${kept} (dispatchers' stderr: ${join(dir, postgres ? 'host*-dispatcher-*.log' : 'dispatcher-*.log')})`);
      }
      return report;
    } finally {
      killChaosProcesses(setup.locations, config, marker);
      await setup.close(kept !== null);
    }
  } finally {
    // Nothing of this run may still hold the folder: the board is unmounted only then.
    killChaosProcesses(setup?.locations ?? [db], config, marker);
    setup?.network?.close();
    await observer?.stop();
    if (kept !== null && board.mounted) cpSync(board.path, join(dir, 'board-kept'), { recursive: true });
    board.unmount();
    if (kept === null) rmSync(dir, { recursive: true, force: true });
  }
}

/** Short leases and ticks, so that a run of minutes sees many of each ending; the caps. On PostgreSQL a longer lease (`leaseSeconds`): a supervisor renews it across hosts. */
function writeConfig(path: string, cap: number, profileCap: number | null, leaseSeconds: number | null): void {
  const profile = { command: [process.execPath, WORKER], on_clean_exit: 'complete' };
  writeFileSync(
    path,
    JSON.stringify({
      profiles: { chaos: profile, ...(profileCap !== null && { [PROFILE_B]: { ...profile, max_in_progress: profileCap } }) },
      default_assignee: 'chaos',
      tick_seconds: 0.3,
      claim_ttl_seconds: leaseSeconds ?? 1.5,
      heartbeat_bridge_seconds: 0.3,
      heartbeat_max_stale_seconds: 10, // above the longest freeze (4 s) and a loaded machine's pauses: silence, not slowness
      crash_grace_seconds: 1,
      rate_limit_cooldown_seconds: 1,
      failure_limit: FAILURE_LIMIT,
      max_in_progress: cap,
    }),
  );
}

/** The part of the board held back until the host faults have begun (PostgreSQL, two hosts or more). */
const HELD_BACK = 0.25;

/**
 * The tasks: a fifth of them children of an earlier one; a quarter assigned to the second profile. In
 * one transaction. Those of the last `heldBack` without a parent land in triage, which no dispatcher
 * takes from, to be promoted by the harness (their children wait for them as any child does).
 * Returns each task's title by its id, and the ids held back.
 */
async function createBoard(board: BoardStore, options: ChaosOptions, withProfileB: boolean, heldBack: number): Promise<{ titles: Map<string, string>; heldBack: string[] }> {
  const random = generator(options.seed); // as it always was: a seed makes the same board
  const assign = generatorFor(options.seed, 'assignee');
  const items: BatchItem[] = [];
  for (let i = 0; i < options.tasks; i++) {
    const parentItems = i > 0 && random() < 0.2 ? [Math.floor(random() * i)] : [];
    const assignee = withProfileB && assign() < 0.25 ? PROFILE_B : null;
    const held = i >= options.tasks - heldBack && parentItems.length === 0;
    items.push({ input: { title: `chaos ${i}`, assignee, ...(held && { triage: true }) }, parentItems, label: `chaos ${i}` });
  }
  const created = await board.transitions.createMany(items);
  return {
    titles: new Map(created.map(({ task }) => [task.id, task.title])),
    heldBack: created.filter((_, i) => items[i]!.input.triage === true).map(({ task }) => task.id),
  };
}

/** The SQLite board: one file, one set of dispatchers (`--db`), the board read on one connection of the harness's own. */
async function sqliteSetup(input: { options: ChaosOptions; db: string; dir: string; env: Record<string, string>; clock: SteppedClock | null; deaths: string[] }): Promise<Setup> {
  const { options, db, dir, env, clock, deaths } = input;
  const store = openStore(db, { waitAsync: true });
  const board = new SqliteBoard(store);
  const host = new Host(0, null, options.dispatchers, () => ({ argv: [process.execPath, KANBAN, '--db', db, 'tui', '--no-ui'], env, stdout: false }), clock?.env ?? {}, dir, 'dispatcher', deaths);
  return { board, store, hosts: [host], locations: [db], network: null, notes: [], keptAt: db, close: () => board.close() };
}

/** A PostgreSQL board: a database of its own on a server (the run's own unless one is named), and `hosts` hosts reaching it through `network`. */
async function postgresSetup(input: {
  options: ChaosOptions;
  postgres: PostgresChaos;
  dir: string;
  token: string;
  env: Record<string, string>;
  clock: SteppedClock | null;
  observer: Observer;
  deaths: string[];
}): Promise<Setup> {
  const { options, postgres, dir, token, env, clock, observer, deaths } = input;
  const count = postgres.hosts ?? 3;
  const notes: string[] = [];
  const given = postgres.url ?? process.env.KANBAN_TEST_POSTGRES_URL;
  const wanted = postgres.network ?? 'auto';
  let netns: NetnsNetwork | null = null;
  if (wanted !== 'proxy') {
    const why = given ? 'the server is named by URL: the run cannot make it listen on the hosts\' veths' : netnsUnavailable();
    if (why === null) netns = new NetnsNetwork(count);
    else if (wanted === 'netns') throw new Error(`cannot give the hosts network namespaces: ${why}`);
    else notes.push(`hosts reach the server through proxies, not network namespaces: ${why}`);
    if (netns) notes.push(...netns.notes);
  }
  let server: TestPostgres | null = null;
  let board: BoardStore | null = null;
  const database = `kanban_chaos_${token.toLowerCase().replace(/[^a-z0-9]/g, '_')}`;
  try {
    if (!given) server = startPostgres(netns ? { tcp: { addresses: netns.serverAddresses, port: await freePort(netns.serverAddresses[0]!), clients: netns.clients } } : {});
    const serverUrl = given ?? server!.url;
    if (netns) netns.listening(server!.port!);
    await withClient(serverUrl, (client) => client.query(`CREATE DATABASE ${database}`));
    const network: HostNetwork = netns ?? (await ProxyNetwork.create(observer, serverUrl, count));
    const boardUrl = withDatabase(serverUrl, database);
    board = await openBoard(boardUrl);
    const hosts: Host[] = [];
    const clockFiles = clock ? Array.from({ length: count }, (_, i) => `${clock.file}-h${i}`) : [];
    for (const file of clockFiles) writeOffset(file, '+0');
    for (let i = 0; i < count; i++) {
      const home = join(dir, `host${i}`);
      mkdirSync(home, { recursive: true });
      const id = `h_chaos${String(i + 1).padStart(11, '0')}`;
      const url = network.url(i, database);
      const host: Host = new Host(
        i,
        id,
        options.dispatchers,
        () => ({
          argv: network.command(i, [process.execPath, KANBAN, 'tui', '--no-ui', '--json']),
          env: { ...env, KANBAN_DB: url, KANBAN_HOME: home, KANBAN_HOST_ID: id, KANBAN_BOOT_ID: host.bootId(token), KANBAN_CHAOS_HOST: String(i) },
          stdout: true,
        }),
        clock ? { ...clock.env, KANBAN_CLOCK_STEP_FILE: clockFiles[i]! } : {},
        dir,
        `host${i}-dispatcher`,
        deaths,
      );
      hosts.push(host);
    }
    const keptAt = join(dir, 'board.sql');
    const opened = board;
    return {
      board: opened,
      store: null,
      hosts,
      locations: hosts.map((_, i) => network.url(i, database)),
      network,
      notes,
      keptAt,
      close: async (keep) => {
        await opened.close();
        try {
          if (keep) dumpDatabase(boardUrl, keptAt);
          else await withClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
        } finally {
          server?.stop();
        }
      },
    };
  } catch (err) {
    await board?.close();
    server?.stop();
    netns?.close();
    throw err;
  }
}


/** A PostgreSQL board kept for inspection: pg_dump's plain SQL (best effort: the report says where it would be). */
function dumpDatabase(url: string, path: string): void {
  try {
    execFileSync('pg_dump', ['--no-owner', '-f', path, url], { stdio: 'pipe', timeout: 60_000 });
  } catch {
    const bin = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a))[0];
    if (bin) execFileSync(join('/usr/lib/postgresql', bin, 'bin', 'pg_dump'), ['--no-owner', '-f', path, url], { stdio: 'pipe', timeout: 60_000 });
  }
}

/** A TCP port free on `address`. */
function freePort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, address, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A host: its dispatchers, and what it is told about itself (host id, KANBAN_HOME, boot id). On
 * SQLite the one host is the machine itself, with no id of its own.
 */
class Host {
  readonly pool: DispatcherPool;
  state: 'up' | 'down' | 'partitioned' = 'up';
  /** Times started: 1 at first, one more at each restart (a new boot id). */
  boots = 1;
  private clockDispatchers = 0;

  constructor(
    readonly index: number,
    readonly id: string | null,
    private readonly dispatchers: number,
    launch: () => Launch,
    clockEnv: Record<string, string>,
    logDir: string,
    logName: string,
    deaths: string[],
  ) {
    this.pool = new DispatcherPool(launch, clockEnv, logDir, logName, deaths, id === null ? null : `host ${index}`);
  }

  bootId(token: string): string {
    return `chaos-${token}-h${this.index}-boot${this.boots}`;
  }

  /** Its dispatchers, the first `clockDispatchers` under the clock-step shim. */
  start(clockDispatchers: number): void {
    this.clockDispatchers = clockDispatchers;
    for (let i = 0; i < this.dispatchers; i++) this.pool.start(i < clockDispatchers);
  }

  /** Started again after a kill: a new boot id, its dispatchers again. */
  restart(): void {
    this.boots++;
    this.pool.resume();
    this.start(this.clockDispatchers);
  }
}

interface Launch {
  argv: string[];
  env: Record<string, string>;
  /** Their stdout (`--json` tick lines) into their log too. */
  stdout: boolean;
}

/** Dispatchers (`kanban tui --no-ui`), each started again when it dies, whoever killed it, unless their host is down. */
class DispatcherPool {
  private readonly running = new Map<ChildProcess, boolean>();
  private readonly killed = new WeakSet<ChildProcess>();
  private stopping = false;
  /** Its host is down: none is started again until it is back up. */
  private down = false;
  private count = 0;

  constructor(
    private readonly launch: () => Launch,
    private readonly clockEnv: Record<string, string>,
    private readonly logDir: string,
    private readonly logName: string,
    /** Dispatchers that exited on their own, with the end of their stderr. */
    private readonly deaths: string[],
    private readonly hostName: string | null,
  ) {}

  start(faked: boolean): void {
    const logPath = join(this.logDir, `${this.logName}-${++this.count}.log`);
    const stderr = openSync(logPath, 'a');
    const { argv, env, stdout } = this.launch();
    const child = spawn(argv[0]!, argv.slice(1), { env: faked ? { ...env, ...this.clockEnv } : env, stdio: ['ignore', stdout ? stderr : 'ignore', stderr] });
    closeSync(stderr);
    this.running.set(child, faked);
    child.on('exit', (code, signal) => {
      this.running.delete(child);
      if (this.stopping || this.down || this.killed.has(child)) return;
      const tail = readFileSync(logPath, 'utf8').trim().split('\n').slice(-3).join(' | ');
      this.deaths.push(`${this.hostName ? `${this.hostName}: ` : ''}dispatcher ${child.pid} exited on its own (${signal ?? `code ${code}`}): ${tail}`);
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

  /** Its host is being killed: none of its dispatchers is started again (the host kill SIGKILLs them with the rest). */
  abandon(): void {
    this.down = true;
    for (const child of this.running.keys()) this.killed.add(child);
    this.running.clear();
  }

  resume(): void {
    this.down = false;
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
async function finalTasks(board: BoardStore): Promise<{ final: Set<string>; tasks: Task[] }> {
  const tasks: Task[] = await board.tasks.list({ statuses: [...STATUSES] }); // with their links, read in the same snapshot
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const stuckBehindBreaker = (id: string, seen = new Set<string>()): boolean =>
    (byId.get(id)?.parents ?? []).some((p) => !seen.has(p) && (byId.get(p)?.status === 'blocked' || (byId.get(p)?.status === 'todo' && stuckBehindBreaker(p, seen.add(p)))));
  const final = new Set(tasks.filter((t) => t.status === 'done' || t.status === 'blocked' || (t.status === 'todo' && stuckBehindBreaker(t.id))).map((t) => t.id));
  return { final, tasks };
}

async function progress(board: BoardStore): Promise<{ finished: number; running: number; settled: boolean; open: RunRow[] }> {
  const { final, tasks } = await finalTasks(board);
  const open = await board.dispatch.openRuns();
  return { finished: final.size, running: open.length, settled: final.size === tasks.length && open.length === 0, open };
}

// ---- the monkey: one injector per fault ----

interface Monkey {
  board: BoardStore;
  hosts: Host[];
  network: HostNetwork | null;
  token: string;
  marker: string;
  /** Runs whose worker or supervisor the monkey killed or froze, or whose host it killed or cut off: their failures are the monkey's. */
  touched: Set<number>;
  /** Runs whose supervisor the monkey SIGKILLed (what the examples say of a run). */
  supervisorKilled: Set<number>;
  /** PostgreSQL: run id → the index of the host that claimed it, for every run seen open. */
  runHosts: Map<number, number>;
  /** The runs open at the last tick. */
  open: RunRow[];
  /** Each task's title by its id: what its workers' behaviour is keyed by (behaviour.mjs). */
  titles: Map<string, string>;
  kills: ChaosReport['kills'];
  faults: FaultCounts;
  /** The window fault under way (one at a time, at least WINDOW_GAP_MS apart), if any, and when the last one ended. */
  window: string | null;
  windowEndedAt: number;
  /** Every window fault as it happened, and dispatchers' freezes and kills, in harness time: to tell what a charged failure followed. */
  windows: Array<{ name: string; from: number; to: number; dispatcher?: true }>;
  /** [harness time, latest event id] at each tick: which events a window saw. */
  timeline: Array<[number, number]>;
  /** PostgreSQL: each host kill and partition, in monotonic time, with the runs its host had open then or during it. */
  hostFaults: HostFault[];
  log: (line: string) => void;
}

interface HostFault {
  kind: 'killed' | 'partitioned';
  host: number;
  from: number;
  to: number | null;
  runs: Set<number>;
  processes: number;
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
  tick(tick: Tick): void | Promise<void>;
  /** A fault the run must see has not begun yet: the board's held-back part waits for it. */
  pending?(): boolean;
  /** Undoes whatever is still in force (in the run's finally). */
  restore(): void | Promise<void>;
}

/** The index of the host that claimed a run (PostgreSQL), from its claim lock. */
function hostOfRun(monkey: Pick<Monkey, 'hosts'>, run: Pick<RunRow, 'claim_lock'>): number | undefined {
  const id = claimHost(run.claim_lock);
  return monkey.hosts.find((h) => h.id === id)?.index;
}

/** Which host each open run is on; a host killed or cut off: its open runs are the monkey's doing. */
function noteHosts(monkey: Monkey, open: RunRow[]): void {
  monkey.open = open;
  if (monkey.hosts.length < 2) return;
  for (const run of open) {
    const host = hostOfRun(monkey, run);
    if (host === undefined) continue;
    monkey.runHosts.set(run.id, host);
    for (const fault of monkey.hostFaults) {
      if (fault.to === null && fault.host === host) {
        fault.runs.add(run.id);
        monkey.touched.add(run.id);
      }
    }
  }
}

/** A pid of the run's worker or supervisor that is still the run's (a reused pid is never signalled). */
function runPid(run: RunRow, which: 'worker' | 'supervisor'): number | null {
  const pid = which === 'worker' ? run.worker_pid : run.supervisor_pid;
  return isRunProcess(pid, { taskId: run.task_id, runId: run.id }) ? pid : null;
}

/** Every dispatcher running, with the pool (the host) it belongs to. */
function allDispatchers(monkey: Monkey): Array<{ child: ChildProcess; pool: DispatcherPool }> {
  return monkey.hosts.flatMap((host) => host.pool.all().map((child) => ({ child, pool: host.pool })));
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
        else {
          monkey.kills.supervisors++;
          monkey.supervisorKilled.add(pick!.id);
        }
      } else if (roll > 0.97) {
        const dispatchers = allDispatchers(monkey);
        const chosen = dispatchers[Math.floor(random() * dispatchers.length)];
        if (!chosen) return; // every host down
        chosen.pool.kill(chosen.child);
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
        const dispatchers = allDispatchers(monkey);
        pid = dispatchers[Math.floor(pick * dispatchers.length)]?.child.pid;
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
  /** Begins it: false if it cannot be made (dropped), null if not yet (tried again next tick). */
  begin(tick: Tick): boolean | null | Promise<boolean | null>;
  end(): void | Promise<void>;
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
function windows(monkey: Monkey, plan: Window[], options: { mustBegin?: boolean } = {}): Injector {
  const pending = [...plan].sort((a, b) => a.at - b.at);
  let current: { window: Window; from: number; until: number } | null = null;
  const close = async () => {
    if (!current) return;
    const closing = current;
    current = null;
    await closing.window.end();
    monkey.windows.push({ name: closing.window.name, from: closing.from, to: Date.now() });
    monkey.log(`  ${closing.window.name}: over`);
    monkey.window = null;
    monkey.windowEndedAt = Date.now();
  };
  return {
    async tick(tick) {
      const { now, finished } = tick;
      if (current && current.until <= now) await close();
      const next = pending[0];
      if (current || !next || finished < next.at || finished >= WINDOWS_UNTIL || monkey.window !== null || now - monkey.windowEndedAt < WINDOW_GAP_MS) return;
      const begun = await next.begin(tick);
      if (begun === null) return; // not yet: again next tick
      pending.shift();
      if (!begun) return;
      monkey.log(`  ${next.name} for ${(next.holdMs / 1000).toFixed(1)}s`);
      current = { window: next, from: now, until: now + next.holdMs };
      monkey.window = next.name;
    },
    ...(options.mustBegin && { pending: () => pending.length > 0 }),
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

/**
 * The clock of the preloaded processes stepped forward 2 h for 3–5 s, later back 10 min for 3–5 s,
 * each time then back to +0. On PostgreSQL (`pickHost`), the clock of one host at a time (each host
 * reads a file of its own, `<file>-h<index>`): its clock then disagrees with the others' and the server's.
 */
function clockStepInjector(monkey: Monkey, file: string, random: () => number, pickHost: (() => number) | null): Injector {
  const step = (offset: string, at: number): Window => {
    const host = pickHost ? Math.floor(pickHost() * monkey.hosts.length) : null;
    const target = host === null ? file : `${file}-h${host}`;
    return {
      name: host === null ? `clock ${offset}` : `clock ${offset} on host ${host}`,
      at,
      holdMs: holdMs(random),
      begin() {
        writeOffset(target, offset);
        monkey.faults.clockSteps.push(host === null ? offset : `${offset} (host ${host})`);
        return true;
      },
      end: () => writeOffset(target, '+0'),
    };
  };
  return windows(monkey, [step('+2h', 0.15 + random() * 0.3), step('-10m', 0.5 + random() * 0.25)]);
}

/** Replaced in one rename: the shim rereads the file every 10 ms and must never see it half written. */
function writeOffset(file: string, offset: string): void {
  writeFileSync(`${file}.new`, `${offset}\n`);
  renameSync(`${file}.new`, file);
}

/**
 * A host to kill: one that is up and has runs open (a dispatcher claims all it may in a tick, so one
 * host often has them all), picked with `pick` (in [0, 1)), never the last one up; null (not yet)
 * while none has a run open, for up to `patienceMs`, then any host up; undefined when none may go.
 */
function victim(monkey: Monkey, pick: number, waitingSince: number, patienceMs: number): Host | null | undefined {
  const up = monkey.hosts.filter((h) => h.state === 'up');
  if (up.length < 2) return undefined;
  const busy = up.filter((host) => monkey.open.some((run) => hostOfRun(monkey, run) === host.index));
  if (busy.length > 0) return busy[Math.floor(pick * busy.length)]!;
  return Date.now() - waitingSince < patienceMs ? null : up[Math.floor(pick * up.length)]!;
}

/** The open runs a host has now (as the monkey saw them last). */
function runsOfHost(monkey: Monkey, host: Host): Set<number> {
  return new Set(monkey.open.filter((run) => hostOfRun(monkey, run) === host.index).map((run) => run.id));
}

/**
 * Every process of a host, however it got there: in its network namespace; without namespaces, those
 * with its KANBAN_CHAOS_HOST, and the daemons (which may have cleared their environment) of its runs.
 */
function hostProcesses(monkey: Monkey, host: Host): number[] {
  if (monkey.network instanceof NetnsNetwork) return monkey.network.processes(host.index);
  const pids: number[] = [];
  for (const { pid, environ, cmdline } of allProcesses()) {
    const tagged = cmdline.indexOf(monkey.marker);
    const run = tagged >= 0 ? Number(cmdline[tagged + 1]?.split(':')[2]) : NaN;
    if ((environ.includes(`KANBAN_CHAOS_TOKEN=${monkey.token}`) && environ.includes(`KANBAN_CHAOS_HOST=${host.index}`)) || monkey.runHosts.get(run) === host.index) pids.push(pid);
  }
  return pids;
}

/**
 * Every process of the host at once: each SIGSTOPped as it is found (so that none forks meanwhile),
 * again until a pass finds none left running, then all SIGKILLed. Returns how many.
 */
function killHost(monkey: Monkey, host: Host): number {
  const stopped = new Set<number>();
  for (let pass = 0; pass < 50; pass++) {
    const found = hostProcesses(monkey, host).filter((pid) => !stopped.has(pid));
    if (found.length === 0) break;
    for (const pid of found) {
      try {
        process.kill(pid, 'SIGSTOP');
        stopped.add(pid);
      } catch {
        // gone meanwhile
      }
    }
  }
  for (const pid of stopped) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  return stopped.size;
}

/** How long a host kill that is due waits for a host with a run open. */
const HOST_KILL_PATIENCE_MS = 10_000;

/**
 * Host kills (PostgreSQL): `count` times, a host that is up and has runs open (never the last one
 * up) loses every process at once, dispatchers, supervisors, workers and what they left, and is
 * started again with a new boot id, half the time within a second (its hosts step then takes its runs
 * back at once, unless their leases ran out first), else 2–6 s later (another host takes them).
 */
function hostKillInjector(monkey: Monkey, count: number, random: () => number): Injector {
  const plan = Array.from({ length: count }, (_, i): Window => {
    const at = 0.05 + (0.55 / count) * i + random() * (0.3 / count);
    // Half the time back within a second (before its leases can run out, however slowly its
    // dispatchers start), else after 2–6 s (past them).
    const quick = random() < 0.5;
    const spread = random();
    const downMs = quick ? 200 + Math.floor(spread * 800) : 2000 + Math.floor(spread * 4000);
    const pick = random();
    let host: Host | null = null;
    let fault: HostFault | null = null;
    let waitingSince: number | null = null;
    return {
      name: 'host killed',
      at,
      holdMs: downMs,
      begin() {
        waitingSince ??= Date.now();
        const chosen = victim(monkey, pick, waitingSince, HOST_KILL_PATIENCE_MS);
        if (chosen === null) return null;
        host = chosen ?? null;
        if (!host) return false;
        host.state = 'down';
        host.pool.abandon();
        const runs = runsOfHost(monkey, host);
        const processes = killHost(monkey, host);
        for (const run of runs) monkey.touched.add(run);
        fault = { kind: 'killed', host: host.index, from: monotonicMs(), to: null, runs, processes };
        monkey.hostFaults.push(fault);
        monkey.log(`  host ${host.index} killed: ${processes} processes, ${runs.size} runs open`);
        return true;
      },
      end() {
        if (!host || !fault) return;
        fault.to = monotonicMs();
        host.state = 'up';
        host.restart();
        monkey.faults.hostKills.push({ host: host.index, processes: fault.processes, runs: fault.runs.size, downSeconds: Math.round((fault.to - fault.from) / 100) / 10 });
        monkey.log(`  host ${host.index} started again (boot ${host.boots})`);
      },
    };
  });
  return windows(monkey, plan, { mustBegin: true });
}

/** Workers that outlive any lease unless stopped (`hang` runs forever, a `term-ignorer` too), and one that outlives a short one (`chatty`: 2.4 s). */
const LONG_LIVED = new Set(['hang', 'term-ignorer']);

/**
 * The host to cut off: the one (up, never the last one) running the most workers that would outlive
 * their lease, what a partition is about; null (not yet) while none runs one, for up to
 * PARTITION_PATIENCE_MS, then any host that is up.
 */
async function partitionVictim(monkey: Monkey, open: RunRow[], pick: number, waitingSince: number, patienceMs: number, seed: number, escapes: boolean): Promise<Host | null | undefined> {
  const up = monkey.hosts.filter((h) => h.state === 'up');
  if (up.length < 2) return undefined;
  const longLived = new Map<number, number>();
  for (const run of open) {
    const host = hostOfRun(monkey, run);
    if (host === undefined || !up.some((h) => h.index === host)) continue;
    const attempt = (await monkey.board.tasks.runs(run.task_id)).findIndex((r) => r.id === run.id) + 1;
    if (attempt > 0 && LONG_LIVED.has(behaviourOf(seed, monkey.titles.get(run.task_id)!, attempt, escapes).behaviour)) longLived.set(host, (longLived.get(host) ?? 0) + 1);
  }
  const best = [...longLived].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0];
  if (best) return monkey.hosts[best[0]]!;
  if (Date.now() - waitingSince < patienceMs) return null;
  // None came: the host with the most runs open (the first of those from `pick`).
  const runs = (host: Host) => open.filter((run) => hostOfRun(monkey, run) === host.index).length;
  const most = Math.max(...up.map(runs));
  const busiest = up.filter((host) => runs(host) === most);
  return busiest[Math.floor(pick * busiest.length)]!;
}

/** How long a partition that is due waits for a host running a worker that outlives its lease, unless told. */
const PARTITION_PATIENCE_MS = 20_000;

/**
 * Partitions (PostgreSQL): `count` times, a host that is up (never the last one), preferably one
 * running a worker that would outlive its lease, is cut off from the server for 2–3.5 leases, then let
 * through again. Its supervisors must stop their workers before their leases run out: other hosts
 * take the runs back once they have, and run the tasks again.
 */
function partitionInjector(monkey: Monkey, count: number, leaseMs: number, patienceMs: number, random: () => number, seed: number, escapes: boolean): Injector {
  const plan = Array.from({ length: count }, (_, i): Window => {
    const at = 0.1 + (0.5 / count) * i + random() * (0.3 / count);
    const ms = Math.round(leaseMs * (2 + random() * 1.5));
    const pick = random();
    let host: Host | null = null;
    let fault: HostFault | null = null;
    let waitingSince: number | null = null;
    return {
      name: 'partition',
      at,
      holdMs: ms,
      async begin({ open }) {
        waitingSince ??= Date.now();
        const chosen = await partitionVictim(monkey, open, pick, waitingSince, patienceMs, seed, escapes);
        if (chosen === null) return null;
        host = chosen ?? null;
        if (!host || !monkey.network) return false;
        host.state = 'partitioned';
        const runs = runsOfHost(monkey, host);
        for (const run of runs) monkey.touched.add(run);
        fault = { kind: 'partitioned', host: host.index, from: monotonicMs(), to: null, runs, processes: 0 };
        monkey.hostFaults.push(fault);
        await monkey.network.partition(host.index, true);
        monkey.log(`  host ${host.index} cut off from the server, ${runs.size} runs open`);
        return true;
      },
      async end() {
        if (!host || !fault || !monkey.network) return;
        await monkey.network.partition(host.index, false);
        fault.to = monotonicMs();
        host.state = 'up';
      },
    };
  });
  return windows(monkey, plan, { mustBegin: true });
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

interface SteppedClock {
  file: string;
  env: Record<string, string>;
  notes: string[];
}

/**
 * The environment that gives a process a clock read from `file` (`+0`, `+2h`, `-10m`), after checking
 * with a tiny node script that it moves Date.now() and not performance.now() (the monotonic clock
 * must not step: Node aborts when its timer base goes backwards).
 */
function steppedClock(file: string, dir: string, notes: string[]): SteppedClock | null {
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

/** Whether a process is this chaos run's: one of its boards (KANBAN_DB) or its config in its environment, or the marker in its argv. */
function isChaosProcess(environ: string[], cmdline: string[], locations: readonly string[], config: string | null, marker: string | undefined): boolean {
  return (
    (marker !== undefined && cmdline.includes(marker)) ||
    (config !== null && environ.includes(`KANBAN_CONFIG=${config}`)) ||
    locations.some((location) => environ.includes(`KANBAN_DB=${location}`))
  );
}

/** Processes of this chaos run (the board or the config in their environment, or the marker in their argv), but those of runs still open. */
function findLeftovers(open: Set<string>, locations: readonly string[], config: string, marker: string): Leftover[] {
  const leftovers: Leftover[] = [];
  for (const { pid, environ, cmdline } of allProcesses()) {
    if (!isChaosProcess(environ, cmdline, locations, config, marker)) continue;
    const tagged = cmdline.indexOf(marker);
    // A leftover started by a chaos worker says `<behaviour>:<task>:<run>` after the marker.
    const tag = tagged >= 0 ? cmdline[tagged + 1]?.split(':') : undefined;
    const runId = tag?.[2] ?? environ.find((e) => e.startsWith('KANBAN_RUN_ID='))?.slice('KANBAN_RUN_ID='.length) ?? null;
    if (runId !== null && open.has(runId)) continue;
    const kind = tag?.[0] ?? (cmdline.includes('worker') && cmdline.includes('run') ? 'supervisor' : cmdline.includes('tui') ? 'dispatcher' : cmdline.some((a) => a.endsWith('worker.mjs')) ? 'worker' : 'other');
    leftovers.push({ pid, kind, runId: runId === null ? null : Number(runId), cmdline: cmdline.join(' ').slice(0, 160) });
  }
  return leftovers;
}

/** SIGKILLs every process of this chaos run (isChaosProcess). */
function killChaosProcesses(locations: readonly string[], config: string | null, marker?: string): number {
  let killed = 0;
  for (const { pid, environ, cmdline } of allProcesses()) {
    if (!isChaosProcess(environ, cmdline, locations, config, marker)) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed++;
    } catch {
      // gone meanwhile
    }
  }
  return killed;
}

/**
 * Stops every process working for this board (hung workers of the last moments, and any whose pid
 * was never recorded): one pass over /proc for the board in their environment, or `marker` (what a
 * chaos worker leaves behind carries it in its argv, whatever its environment) in their command line.
 */
export function killBoardProcesses(dbPath: string, marker?: string): number {
  return killChaosProcesses([dbPath], null, marker);
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
  /** SQLite: `PRAGMA integrity_check` said ok (a PostgreSQL board: always true). */
  integrity: boolean;
  /** The workers' lives, as the witness saw them, and when the run started (monotonic ms). */
  lives: WorkerLife[];
  startedMono: number;
  /** The same moment on this machine's wall clock: the board's timestamps are read against it. */
  startedWall: number;
  postgres: { leaseSeconds: number; network: string } | null;
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

/** The last `max` lines a run's supervisor wrote to its log (what it did and met), from the board (shipped) or the log file; none when neither has them. */
async function supervisorLines(board: BoardStore, run: RunRow, max = 8): Promise<string[]> {
  const mark = `[r${run.id} kanban] `;
  let text = '';
  try {
    text = (await board.logs.tail(run.task_id, SHIPPED_LOG_MAX_BYTES)).filter((piece) => piece.run_id === run.id).map((piece) => piece.text).join('');
    if (text === '') text = readFileSync(taskLogPath(board.ref.dataDir, run.task_id), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.includes(mark))
    .slice(-max)
    .map((line) => (line.length > 300 ? `${line.slice(0, 300)}…` : line));
}

async function check(board: BoardStore, input: CheckInput): Promise<ChaosReport> {
  const { options, monkey } = input;
  const { final, tasks } = await finalTasks(board);
  const byTask = [...tasks].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const runs: RunRow[] = [];
  const allEvents = [];
  for (const task of byTask) {
    runs.push(...(await board.tasks.runs(task.id)));
    allEvents.push(...(await board.tasks.events(task.id)));
  }
  const events = allEvents
    .filter((e) => e.kind !== 'heartbeat')
    .sort((a, b) => a.id - b.id)
    .map((e) => ({ id: e.id, task_id: e.task_id, run_id: e.run_id, kind: e.kind, failures: typeof e.payload.failures === 'number' ? e.payload.failures : null, payload: e.payload }));
  const runsOf = new Map<string, RunRow[]>();
  for (const run of runs) runsOf.set(run.task_id, [...(runsOf.get(run.task_id) ?? []), run]);
  const eventsOf = new Map<string, typeof events>();
  for (const e of events) eventsOf.set(e.task_id, [...(eventsOf.get(e.task_id) ?? []), e]);

  const examples: string[] = [];
  const clockDisorder = new Set<number>(runs.filter((r) => r.ended_at !== null && r.ended_at < r.started_at).map((r) => r.id));
  const shown = new Map<string, number>();
  /** Whether a note of `topic` would still be shown (three each). */
  const noting = (topic: string) => (shown.get(topic) ?? 0) < 3;
  const note = (topic: string, text: string) => {
    if (!noting(topic)) return;
    shown.set(topic, (shown.get(topic) ?? 0) + 1);
    examples.push(text);
  };
  const violations: ChaosReport['violations'] = {
    unsettled: 0, open_runs: 0, overlapping_runs: 0, overlapping_workers: 0, double_completed: 0, events_disagree: 0, integrity: 0,
    over_cap: 0, over_profile_cap: 0, processes_left: 0, infra_charged: 0, hosts_wrong_boot: 0,
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
    taskRuns.forEach((run, i) => intended.set(run.id, behaviourOf(options.seed, monkey.titles.get(run.task_id)!, i + 1, options.faults?.escapes ?? ALL_FAULTS.escapes).behaviour));
  }

  // The workers' real lives (the witness), by run.
  const lifeOf = new Map<number, WorkerLife>();
  for (const life of input.lives) if (!lifeOf.has(life.run)) lifeOf.set(life.run, life);
  const runById = new Map(runs.map((r) => [r.id, r]));
  const at = (ms: number | null) => (ms === null ? 'the end' : `${((ms - input.startedMono) / 1000).toFixed(1)}s`);
  const hostIndex = (id: string) => monkey.hosts.find((h) => h.id === id)?.index;
  const whose = (life: WorkerLife) => {
    const host = hostIndex(life.host);
    const run = runById.get(life.run);
    const killed = monkey.supervisorKilled.has(life.run) ? ', its supervisor SIGKILLed by the monkey' : '';
    return `run ${life.run}${host === undefined ? '' : ` on host ${host}`}${killed}, ${run?.outcome ?? 'open'}${run?.error ? `: ${run.error.slice(0, 90)}` : ''}`;
  };
  /** The host fault a worker lived through, if any. */
  const during = (life: WorkerLife) => {
    const fault = monkey.hostFaults.find((f) => f.host === hostIndex(life.host) && f.from < (life.end ?? Infinity) && (f.to ?? Infinity) > life.start);
    return fault ? ` (its host ${fault.kind === 'killed' ? 'killed' : 'cut off'} ${at(fault.from)}–${at(fault.to)})` : '';
  };

  /** What each run of a task did and when (the board's timestamps, as seconds since the run began,
   * as the faults' are): enough to tell a run that started late from a claim that stuck. */
  const sinceStart = (ms: number | null) => (ms === null ? 'never' : `${((ms - input.startedWall) / 1000).toFixed(1)}s`);
  const history = (taskRuns: RunRow[]) =>
    taskRuns.length === 0
      ? 'no runs'
      : `its runs: ${taskRuns
          .map((run) => {
            const host = monkey.runHosts.get(run.id);
            const life = lifeOf.get(run.id);
            const worker = life === undefined ? 'worker unheard of' : `worker ${life.end === null ? 'alive at the end' : `lived ${((life.end - life.start) / 1000).toFixed(1)}s`}`;
            return `run ${run.id} (${intended.get(run.id)}${host === undefined ? '' : `, host ${host}`}) ${run.outcome ?? 'open'}, started at ${sinceStart(run.started_at)}, last heartbeat ${sinceStart(run.last_heartbeat_at)}${run.ended_at === null ? '' : `, ended ${sinceStart(run.ended_at)}`}, ${worker}`;
          })
          .join('; ')} (checked at ${sinceStart(Date.now())})`;

  for (const task of tasks) {
    const taskRuns = runsOf.get(task.id) ?? [];
    const taskEvents = eventsOf.get(task.id) ?? [];
    if (!final.has(task.id)) {
      violations.unsettled++;
      note('unsettled', `${task.id} did not settle: ${task.status}; ${history(taskRuns)}`);
    }
    for (let i = 1; i < taskRuns.length; i++) {
      const [previous, run] = [taskRuns[i - 1]!, taskRuns[i]!];
      if (!endedAt.has(previous.id) || (claimedAt.get(run.id) ?? Infinity) < endedAt.get(previous.id)!) {
        violations.overlapping_runs++;
        note('overlapping', `${task.id}: run ${run.id} was claimed before run ${previous.id} ended`);
      }
      if (previous.ended_at === null || run.started_at < previous.ended_at) clockDisorder.add(run.id);
    }
    // Two workers of the task alive at once, whatever the board said of their runs.
    const lives = taskRuns.flatMap((run) => lifeOf.get(run.id) ?? []).sort((a, b) => a.start - b.start);
    for (let i = 0; i < lives.length; i++) {
      for (let j = i + 1; j < lives.length; j++) {
        const [first, second] = [lives[i]!, lives[j]!];
        if (second.start >= (first.end ?? Infinity)) continue;
        violations.overlapping_workers++;
        const together = Math.min(first.end ?? Infinity, second.end ?? Infinity) - second.start;
        note(
          'overlapping workers',
          `${task.id}: the worker of ${whose(first)} was alive ${at(first.start)}–${at(first.end)}${during(first)}, the worker of ${whose(second)} from ${at(second.start)}: ${Number.isFinite(together) ? `${(together / 1000).toFixed(1)}s` : 'until the end'} at once`,
        );
      }
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
  if (!input.integrity) violations.integrity = 1;

  // Running at once. Exactly: a run counts from its claim's commit to its ending's.
  const byCommit = (filter: (r: RunRow) => boolean) =>
    maxOverlap(runs.filter((r) => filter(r) && claimedAt.has(r.id)).map((r) => [claimedAt.get(r.id)!, endedAt.get(r.id) ?? Infinity]));
  const max = byCommit(() => true);
  const maxByTimestamps = maxOverlap(runs.map((r) => [r.started_at, r.ended_at ?? Infinity]));
  const profileMax = input.profileCap === null ? 0 : byCommit((r) => r.profile === PROFILE_B);
  violations.over_cap = Math.max(0, max - input.cap);
  violations.over_profile_cap = input.profileCap === null ? 0 : Math.max(0, profileMax - input.profileCap);
  const maxWorkers = maxOverlap([...lifeOf.values()].map((l) => [l.start, l.end ?? Infinity]));

  // Infrastructure charged to tasks: a counted failure of a run meant to succeed that the monkey did not touch.
  const chargedKinds: string[] = [];
  const chargedWindows: string[] = [];
  const chargedTasks = new Set<string>();
  const idAt = (time: number) => monkey.timeline.filter(([t]) => t <= time).at(-1)?.[1] ?? 0;
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
    const cause = causes(e.id);
    chargedKinds.push(e.kind);
    chargedWindows.push(cause);
    chargedTasks.add(e.task_id);
    const run = runById.get(e.run_id);
    // Where and how far it got, for whoever reads a failing report: the host, its worker, how long it ran.
    const host = run && monkey.hosts.length > 1 ? `, host ${hostOfRun(monkey, run) ?? '?'}` : '';
    const got = run ? `, supervisor ${run.supervisor_pid ?? 'none'}, worker ${run.worker_pid ?? 'never recorded'}, ran ${run.ended_at === null ? '?' : ((run.ended_at - run.started_at) / 1000).toFixed(1)}s` : '';
    // What the taker saw, and what the run's supervisor did and met (its own lines of the run's log).
    const saw = ['host_local', 'supervisor_alive', 'heartbeat_stale'].filter((k) => k in e.payload).map((k) => `${k} ${String(e.payload[k])}`).join(', ');
    const lines = run && noting(`charged ${cause}`) ? (await supervisorLines(board, run)).map((line) => `\n    ${line}`).join('') : '';
    note(`charged ${cause}`, `run ${e.run_id} of ${e.task_id} (meant: ${meant}${host}${got}) charged ${e.kind} (failure ${e.failures}, ${cause}): ${run?.error ?? ''}${saw ? ` (seen: ${saw})` : ''}${lines}`);
  }
  violations.infra_charged = chargedKinds.length;
  const blockedByInfra = tasks.filter((t) => t.status === 'blocked' && chargedTasks.has(t.id)).length;

  violations.processes_left = input.leftovers.length;
  for (const p of input.leftovers) {
    const run = p.runId === null ? undefined : runById.get(p.runId);
    note(`leftover ${p.kind}`, `left alive: pid ${p.pid} (${p.kind}${run ? `, run ${run.id} ${run.outcome ?? 'open'}${monkey.touched.has(run.id) ? ', touched by the monkey' : ''}` : ''}): ${p.cmdline}`);
  }
  for (const death of input.deaths) note('death', death);

  // PostgreSQL: the board knows every host by the boot it last started with; how runs were taken back.
  let onBoard: string[] = [];
  let takenBack: ChaosReport['takenBack'] = null;
  if (input.postgres) {
    const rows = await board.hosts.list();
    for (const host of monkey.hosts) {
      const row = rows.find((r) => r.id === host.id);
      const expected = host.bootId(monkey.token);
      if (row?.boot_id !== expected) {
        violations.hosts_wrong_boot++;
        note('hosts', `host ${host.index} (${host.id}): the board has boot ${row?.boot_id ?? 'none'}, its last boot is ${expected}`);
      }
    }
    onBoard = rows.map((r) => `${r.id} (boot ${r.boot_id.replace(`chaos-${monkey.token}-`, '')})`);
    const reclaimed = events.filter((e) => e.kind === 'reclaimed');
    takenBack = {
      atRestart: reclaimed.filter((e) => e.payload.previous_boot_id !== undefined).length,
      byOtherHost: reclaimed.filter((e) => typeof e.payload.detail === 'string' && e.payload.detail.includes('claimed on another host')).length,
      leaseLost: runs.filter((r) => (r.error ?? '').includes('before its lease ran out')).length,
    };
  }

  const count = (values: string[]) => values.reduce<Record<string, number>>((acc, v) => ({ ...acc, [v]: (acc[v] ?? 0) + 1 }), {});
  const meantAll = runs.map((r) => intended.get(r.id)!);
  const partitions = monkey.hostFaults
    .filter((f) => f.kind === 'partitioned' && f.to !== null)
    .map((f) => ({ host: f.host, runs: f.runs.size, seconds: Math.round((f.to! - f.from) / 100) / 10, outcomes: count([...f.runs].map((id) => runById.get(id)?.outcome ?? 'open')) }));
  return {
    seed: options.seed,
    backend: input.postgres ? 'postgres' : 'sqlite',
    tasks: tasks.length,
    seconds: Math.round(input.seconds),
    settled: input.settled,
    dispatchers: options.dispatchers * monkey.hosts.length,
    hosts: input.postgres ? { count: monkey.hosts.length, network: input.postgres.network, leaseSeconds: input.postgres.leaseSeconds, onBoard } : null,
    runs: count(runs.map((r) => r.outcome ?? 'open')),
    intended: count(meantAll),
    kills: monkey.kills,
    faults: { ...monkey.faults, escapes: count(meantAll.filter((b) => ESCAPE_KINDS.has(b))), partitions },
    dispatcherDeaths: input.deaths.length,
    concurrency: {
      cap: input.cap,
      max,
      maxByTimestamps,
      maxSampled: input.samples.max,
      maxWorkers,
      profile: input.profileCap === null ? null : { name: PROFILE_B, cap: input.profileCap, max: profileMax, maxSampled: input.samples.profileMax },
    },
    workers: { witnessed: lifeOf.size, unwitnessed: runs.filter((r) => r.worker_pid !== null && !lifeOf.has(r.id)).length },
    takenBack,
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
  const { concurrency: c, faults: f, hosts } = report;
  const who = hosts ? `${hosts.count} hosts (${report.dispatchers / hosts.count} dispatchers each) on PostgreSQL` : `${report.dispatchers} dispatchers`;
  return [
    `chaos seed ${report.seed}: ${report.tasks} tasks, ${runs} runs, ${who}, ${report.seconds}s, ${report.settled ? 'settled' : 'DID NOT SETTLE'}`,
    ...(hosts ? [`  hosts: ${hosts.network}; lease ${hosts.leaseSeconds}s; on the board: ${hosts.onBoard.join(', ') || 'none'}`] : []),
    `  runs by outcome: ${list(report.runs)}`,
    `  runs meant to: ${list(report.intended)}`,
    `  kills: ${report.kills.workers} workers, ${report.kills.supervisors} supervisors, ${report.kills.dispatchers} dispatchers (each replaced)`,
    ...(hosts
      ? [
          `  host kills (every process at once, restarted with a new boot id): ${f.hostKills.length > 0 ? f.hostKills.map((k) => `host ${k.host} (${k.processes} processes, ${k.runs} runs open, down ${k.downSeconds}s)`).join(', ') : 'none'}`,
          `  partitions: ${f.partitions.length > 0 ? f.partitions.map((p) => `host ${p.host} for ${p.seconds}s (${p.runs} runs open: ${list(p.outcomes)})`).join(', ') : 'none'}`,
          `  runs taken back: ${report.takenBack?.atRestart ?? 0} at their host's restart, ${report.takenBack?.byOtherHost ?? 0} by another host once their lease ran out, ${report.takenBack?.leaseLost ?? 0} stopped by their own supervisor before it did`,
        ]
      : []),
    `  freezes (SIGSTOP 1–4 s): ${f.freezes.dispatchers} dispatchers, ${f.freezes.supervisors} supervisors, ${f.freezes.workers} workers`,
    hosts ? `  clock steps ${f.clockSteps.length > 0 ? f.clockSteps.join(', ') : 'none'}` : `  disk-full windows ${f.diskFull}, read-only windows ${f.readOnly}, clock steps ${f.clockSteps.length > 0 ? f.clockSteps.join(', ') : 'none'}`,
    `  escapes: ${list(f.escapes)}`,
    `  dispatchers that exited on their own ${report.dispatcherDeaths} (each restarted)`,
    `  max running at once ${c.max} (cap ${c.cap}); by started_at/ended_at ${c.maxByTimestamps}, sampled ${c.maxSampled}; workers alive at once ${c.maxWorkers}`,
    ...(c.profile ? [`  max running at once with profile ${c.profile.name} ${c.profile.max} (cap ${c.profile.cap}); sampled ${c.profile.maxSampled}`] : []),
    `  processes left after the end ${report.leftovers.count}${paren(report.leftovers.byKind)}`,
    `  runs charged to tasks for infrastructure faults ${report.charged.runs}${paren(report.charged.byKind)}${report.charged.runs > 0 ? `; during or ≤8 s after: ${list(report.charged.byWindow)}` : ''}`,
    `  tasks blocked by infrastructure ${report.charged.blockedTasks}`,
    `  overlapping runs ${report.violations.overlapping_runs} (by commit order), ${report.violations.overlapping_workers} (by the workers' lives: ${report.workers.witnessed} workers witnessed, ${report.workers.unwitnessed} runs with a worker unheard of); runs out of order by their timestamps ${report.clockDisorder}`,
    `  final: ${list(report.final)}`,
    `  invariants (each must be 0): ${list(report.violations)}`,
    ...report.notes.map((n) => `  note: ${n}`),
    ...report.examples.map((e) => `  ${e}`),
  ].join('\n');
}
