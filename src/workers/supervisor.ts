import { execa } from 'execa';
import { Elapsed } from '../elapsed.js';
import { errorMessage, Refused } from '../errors.js';
import { infrastructureFault, INFRASTRUCTURE_RETRY_MS, isDiskFault, RECORD_PATIENCE_MS } from '../faults.js';
import { busyTimeoutMs } from '../env.js';
import { decideEnding, type Ending } from '../core/ending.js';
import { resolveBoardPath, resolveConfigPath, type LocationOptions } from '../location.js';
import { cleanLine } from '../sanitize.js';
import { signalGroup, signalProcess } from '../signals.js';
import { DEFAULT_FAILURE_LIMIT, failurePolicyOf, resolveSettings } from '../settings.js';
import type { BoardStore } from '../port/board.js';
import type { FailurePolicy } from '../core/breaker.js';
import type { RunIdentity } from '../core/run.js';
import { openBoard } from '../port/open.js';
import type { TaskRow } from '../core/types.js';
import { workerEnv } from './identity.js';
import { ConfigFault, planRun, removePromptFile, RUN_CONFIG_VARIABLE, type RunPlan } from './plan.js';
import { containedArgv, parseExecFailure, parseKillReport, parseMembers, type StoppedProcess } from './contain.js';
import { stopLeftovers } from './leftovers.js';
import { RunLog } from './runlog.js';
import { Tail } from './tail.js';
import { LeaseHolder } from './lease-holder.js';
import { LogShipper } from './log-shipper.js';
import { removeScratchWorkspace } from './workspace.js';
import type { ExitRecord } from '../port/types.js';
import { monotonicMs } from '../clock.js';

/** SIGTERM first; SIGKILL this long after, for a worker that does not stop. */
export const KILL_GRACE_MS = 5000;

export interface SuperviseOptions {
  options: LocationOptions;
  taskId: string;
  runId: number;
}

/**
 * `kanban worker run`: owns one run from start to end. Checks the run is still current (a stale start
 * exits without spawning and without counting a failure), runs the profile's argv (no shell) in the
 * task's workspace, appends its output to the task log, turns output into heartbeats (at most one per
 * bridge interval), enforces max runtime, and records how it ended in one fenced transition.
 */
export async function superviseRun({ options, taskId, runId }: SuperviseOptions): Promise<void> {
  // The dispatcher that started it checked the whole board: a supervisor makes the cheap check.
  const board = await openBoard(resolveBoardPath(options), { busyTimeoutMs: busyTimeoutMs(), checkIntegrity: false });
  // On a board other hosts share, the log's lines are shipped to the board too, once the run is known to be this one's.
  let shipper: LogShipper | undefined;
  const log = RunLog.open(board.ref.dataDir, taskId, runId, { ship: (bytes) => shipper?.push(bytes) }); // never throws: a log that cannot be written loses output, not the run
  try {
    const run = await board.tasks.run(taskId, runId);
    if (!run) {
      log.line('kanban', `run ${runId} is not a run of ${taskId}: nothing to do`);
      return;
    }
    const identity: RunIdentity = { taskId, runId, claimLock: run.claim_lock };
    let task: TaskRow;
    try {
      task = await board.lease.check(identity);
      await board.lease.attachSupervisor(identity, process.pid);
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
      log.line('kanban', `stale start, not spawning: ${err.message}`);
      return;
    }
    if (board.shared) shipper = new LogShipper(board, identity, (line) => log.line('kanban', line));
    await superviseOwnedRun(board, options, identity, task, run.lease_ms, log);
  } finally {
    log.close();
    await shipper?.close();
    await board.close();
  }
}

/** The failure limit when even the config could not be read: the environment's, else the default. */
function fallbackFailures(): FailurePolicy {
  try {
    return failurePolicyOf(resolveSettings());
  } catch {
    return { limit: DEFAULT_FAILURE_LIMIT, limitSource: 'default' };
  }
}

/** How much of each stream is kept to judge the run by: the end, where agents say how it went. */
const STDOUT_TAIL_BYTES = 256 * 1024;
const STDERR_TAIL_BYTES = 64 * 1024;

/** A spawn that failed for the config or the machine is tried again after this, not counted. */
export const CONFIG_FAULT_RETRY_MS = 60_000;

async function superviseOwnedRun(board: BoardStore, options: LocationOptions, identity: RunIdentity, task: TaskRow, leaseMs: number, log: RunLog): Promise<void> {
  let plan: RunPlan;
  try {
    plan = planRun(await board.tasks.context(task.id), board.ref, resolveConfigPath(options), identity, task);
  } catch (err) {
    const reason = `cannot start the worker: ${errorMessage(err)}`;
    log.line('kanban', reason);
    // The config's fault or the machine's (an unwritable prompt file, a full disk): not the task's.
    const retryInMs = err instanceof ConfigFault ? CONFIG_FAULT_RETRY_MS : infrastructureFault(err) ? INFRASTRUCTURE_RETRY_MS : undefined;
    await recordPatiently(() => board.lease.recordFailure(identity, 'spawn_failed', reason, fallbackFailures(), retryInMs === undefined ? undefined : { retryInMs }), log, 'the failed start');
    return;
  }
  try {
    await runWorker(board, identity, task, plan, leaseMs, log);
  } finally {
    removeRunPrompt(plan.promptFile, log); // also when the worker never started
  }
}

/** `leaseMs`: the run's own lease (its claim's), which a shared board's supervisor holds. */
async function runWorker(board: BoardStore, identity: RunIdentity, task: TaskRow, plan: RunPlan, leaseMs: number, log: RunLog): Promise<void> {
  const { settings, argv, workspace } = plan;
  const failures = failurePolicyOf(settings);
  log.maxBytes = settings.logMaxBytes;

  // On a board other hosts share, the lease is renewed before the worker starts and held from that
  // moment: a run taken back meanwhile (a slow start on a loaded host) never starts its worker, and a
  // worker started just as its host is cut off has its deadline all the same.
  let leaseSetAt = 0;
  if (board.shared) {
    const sentAt = monotonicMs();
    try {
      await board.lease.renew(identity, { maxStaleMs: settings.heartbeatMaxStaleSeconds * 1000 });
      leaseSetAt = sentAt;
    } catch (err) {
      if (err instanceof Refused) {
        log.line('kanban', `taken back before its worker started, not starting it: ${err.message}`);
        return;
      }
      const reason = `cannot start the worker: its lease could not be renewed first (${errorMessage(err)})`;
      log.line('kanban', reason);
      await recordPatiently(() => board.lease.recordFailure(identity, 'spawn_failed', reason, failures, { retryInMs: INFRASTRUCTURE_RETRY_MS }), log, 'the failed start');
      return;
    }
  }

  log.line('kanban', `starting run ${identity.runId} (profile ${plan.profileName}): ${JSON.stringify(argv.map(shortArg))} in ${workspace}`);
  const { [RUN_CONFIG_VARIABLE]: _handed, ...inherited } = process.env;
  // Inside the container (contain.ts) when this machine has one: every process the worker starts,
  // daemons included, is stopped with the run, and named on descriptor 3.
  // On a board other hosts share, whatever stops the worker gives it a grace that ends before its
  // lease could run out: the lease holder, and the container should this supervisor die.
  const leaseMarginMs = Math.min(KILL_GRACE_MS + 1000, leaseMs / 3);
  const graceMs = board.shared ? Math.min(KILL_GRACE_MS, leaseMarginMs / 2) : KILL_GRACE_MS;
  const contained = containedArgv(argv, graceMs, CONTAINER_REPORT_FD);
  const isContained = contained.length !== argv.length;
  const worker = execa(contained[0]!, contained.slice(1), {
    cwd: workspace,
    env: workerEnv({ ...inherited, ...plan.env }, identity, board.ref, workspace),
    extendEnv: false,
    detached: true, // its own process group: signals reach everything it started, and not us
    stdio: [plan.stdin === null ? 'ignore' : 'pipe', 'pipe', 'pipe', 'pipe'],
    ...(plan.stdin !== null && { input: plan.stdin }),
    buffer: false,
    reject: false,
    cleanup: false,
  });
  const report = new Tail(CONTAINER_REPORT_BYTES);
  worker.stdio[CONTAINER_REPORT_FD]?.on('data', (data: Buffer) => report.push(data));

  let stopping: 'timeout' | 'idle' | 'stale' | 'lease lost' | 'taken back' | 'supervisor signalled' | null = null;
  const stop = (why: NonNullable<typeof stopping>) => {
    // Once the worker has exited there is nothing to stop (its process group may be another's by now).
    if (stopping !== null || worker.pid === undefined || worker.exitCode !== null || worker.signalCode !== null) return;
    stopping = why;
    if (isContained) {
      // The container stops the whole tree (SIGTERM, SIGKILL after the grace); signalled alone, so the
      // worker gets SIGTERM once. SIGKILL to the group stays a last resort, well after its grace.
      log.line('kanban', `stopping the worker (${why}): SIGTERM to everything it started, SIGKILL after ${graceMs} ms`);
      signalProcess(worker.pid, 'SIGTERM');
      setTimeout(() => signalGroup(worker.pid!, 'SIGKILL'), 3 * graceMs).unref();
    } else {
      log.line('kanban', `stopping the worker (${why}): SIGTERM, SIGKILL after ${graceMs} ms`);
      signalGroup(worker.pid, 'SIGTERM');
      setTimeout(() => signalGroup(worker.pid!, 'SIGKILL'), graceMs).unref();
    }
  };

  // On a board other hosts share, the lease is this supervisor's to hold (lease-holder.ts): the
  // worker is stopped before the lease could run out unrenewed, before another host may take the run.
  let leaseHolder: LeaseHolder | undefined;
  const holdLease = (sentAt: number) => {
    if (!board.shared || worker.pid === undefined) return;
    leaseHolder = new LeaseHolder(board, identity, { leaseMs, maxStaleMs: settings.heartbeatMaxStaleSeconds * 1000, marginMs: leaseMarginMs }, (why) => {
      // Killed hard soon enough to be gone before the lease could run out.
      if (why === 'taken back') return stop('taken back');
      if (why === 'silent') return stop('stale');
      machineFault ??= 'board server unreachable';
      stop('lease lost');
    }, (line) => log.line('kanban', line), sentAt);
  };
  holdLease(leaseSetAt);

  // Queued now, ahead of any heartbeat its output queues, and awaited only once every listener is
  // attached below: a worker that exits at once must not have ended before we listen for its end.
  const spawnRecorded =
    worker.pid === undefined
      ? Promise.resolve()
      : Promise.all([
          board.lease.recordSpawn(identity, { workerPid: worker.pid, argv: argv.map(shortArg), workspace }),
          // A started worker is a sign of life: the silence that gets a run reclaimed counts from here,
          // not from the claim (a loaded machine can take a while to get this far).
          board.lease.heartbeat(identity, { source: 'spawn' }),
        ]).then(
          () => undefined,
          (err: unknown) => {
            log.line('kanban', `could not record the worker's pid: ${errorMessage(err)}`);
            if (err instanceof Refused) stop('taken back');
          },
        );

  const tails = { out: new Tail(STDOUT_TAIL_BYTES), err: new Tail(STDERR_TAIL_BYTES) };
  /** A fault of the machine met during the run (the board's disk full or read-only): a failure then is not the task's. */
  let machineFault: string | null = null;
  // Monotonic: a step of the wall clock neither makes the worker look silent nor hides its silence.
  let lastOutputAt = monotonicMs();
  let lastBridgeAt = -Infinity;
  const onOutput = (stream: 'out' | 'err') => (data: Buffer) => {
    log.chunk(stream, data);
    tails[stream].push(data);
    const now = monotonicMs();
    lastOutputAt = now;
    if (now - lastBridgeAt < settings.heartbeatBridgeSeconds * 1000) return;
    lastBridgeAt = now;
    board.lease.heartbeat(identity, { source: 'bridge' }).then(() => leaseHolder?.moved(now), (err: unknown) => {
      // Best effort: a busy board is retried on the next output; a run taken back stops the worker.
      log.line('kanban', `heartbeat from output failed: ${errorMessage(err)}`);
      if (err instanceof Refused) stop('taken back');
      if (isDiskFault(err)) machineFault ??= infrastructureFault(err);
    });
  };
  worker.stdout?.on('data', onOutput('out'));
  worker.stderr?.on('data', onOutput('err'));

  const maxRuntimeMs = (task.max_runtime_seconds ?? 0) * 1000;
  const runtimeTimer = maxRuntimeMs > 0 ? setTimeout(() => stop('timeout'), maxRuntimeMs) : undefined;
  const idleWatch = plan.idleTimeoutSeconds ? watchIdle(board, identity, plan.idleTimeoutSeconds * 1000, () => lastOutputAt, () => stop('idle')) : undefined;
  const forward = () => stop('supervisor signalled');
  const signals = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
  for (const signal of signals) process.on(signal, forward);

  // Once the worker (the container) has exited: nothing is left to stop, and the run stays held until
  // its ending is written (recording it may outlast the lease on a busy or failing board, and another
  // host must not take back, and count, a run that ended well meanwhile). Then, before its exit is
  // recorded (the task may then run again): what it left, should the container have been killed
  // itself, or there be none. From its exit, not its end: a process left holding its output would
  // keep the output open.
  const leftoversStopped =
    worker.pid === undefined
      ? Promise.resolve([])
      : new Promise<StoppedProcess[]>((resolve) =>
          worker.once('exit', () => {
            leaseHolder?.recordingExit();
            resolve(stopLeftovers(identity, worker.pid!, KILL_GRACE_MS, () => parseMembers(report.text())));
          }),
        );
  let leftovers: StoppedProcess[];
  let record: ExitRecord;
  let sanitized: Ending;
  try {
    await spawnRecorded;
    const result = await worker;
    leftovers = await leftoversStopped;
    removeRunPrompt(plan.promptFile, log); // before the exit is recorded: once the run has ended, it is gone
    clearTimeout(runtimeTimer);
    idleWatch?.stop();
    for (const signal of signals) process.off(signal, forward);
    log.flush();

    const execFailure = worker.pid === undefined ? null : parseExecFailure(report.text());
    if (worker.pid === undefined || execFailure !== null) {
      const code = execFailure ?? result.code ?? '';
      const reason = `cannot start ${JSON.stringify(argv[0])}: ${code} ${execFailure ? '' : result.shortMessage ?? result.message ?? ''}`.trim();
      log.line('kanban', reason);
      // A program that is not there (or not executable) is the config's or the machine's fault, not the task's.
      const missing = code === 'ENOENT' || code === 'EACCES';
      const retryInMs = missing ? CONFIG_FAULT_RETRY_MS : infrastructureFault(result) ? INFRASTRUCTURE_RETRY_MS : undefined;
      await recordPatiently(() => board.lease.recordFailure(identity, 'spawn_failed', cleanLine(reason), failures, retryInMs === undefined ? undefined : { retryInMs }), log, 'the failed start');
      return;
    }

    const exitCode = result.exitCode ?? null;
    const signal = result.signal ?? null;
    const now = Date.now();
    const transcript = { exitCode, signal, stdout: tails.out.text(), stderr: tails.err.text() };
    const ending = decideEnding({
      exitCode,
      signal,
      stoppedFor: STOPPED_FOR[stopping ?? 'none'],
      idleTimeoutSeconds: plan.idleTimeoutSeconds,
      maxStaleSeconds: settings.heartbeatMaxStaleSeconds,
      verdict: plan.classify(transcript, now),
      onCleanExit: plan.onCleanExit,
      onSuccess: plan.onSuccess,
      profile: plan.profileName,
      now,
      cooldown: { defaultMs: settings.rateLimitCooldownSeconds * 1000, maxMs: settings.rateLimitMaxCooldownSeconds * 1000 },
    });
    sanitized = { ...ending, error: ending.error === null ? null : bounded(cleanLine(ending.error), 1000), summary: ending.summary === null ? null : bounded(ending.summary, 64 * 1024) };
    // What the exit means is said once it is recorded: a worker that completed its task itself and then
    // exited 0 did not "exit without completing", though the ending, decided before, would say so.
    log.line('kanban', `worker exited: ${signal ? `signal ${signal}` : `code ${exitCode}`}`);
    const fault = machineFault ?? infrastructureFault(log.fault);
    if (fault) log.line('kanban', `the machine failed during this run (${fault}): a failure is not counted against the task`);
    const exit = { exitCode, signal, failures, ending: sanitized, ...(fault && { machineFault: { fault, retryInMs: INFRASTRUCTURE_RETRY_MS } }) };
    try {
      record = await recordPatiently(() => board.lease.recordExit(identity, exit), log, 'the exit');
    } catch (err) {
      log.line('kanban', `could not record the exit${sanitized.error ? ` (${sanitized.error})` : ''}: ${errorMessage(err)}`);
      if (err instanceof Refused) return;
      throw err;
    }
  } finally {
    leaseHolder?.close(); // its ending written, or given up on: the run is no longer this supervisor's to hold
  }
  const why = !record.alreadyClosed && sanitized.error ? ` (${sanitized.error})` : '';
  log.line('kanban', `run ${identity.runId} ${record.alreadyClosed ? 'had already ended' : 'ended'}: ${record.outcome}${why}`);
  await noteStoppedProcesses(board, identity, [...parseKillReport(report.text()), ...leftovers], stopping, log);
  if (record.task?.status === 'done' && task.workspace_kind === 'scratch') {
    try {
      await cleanUpScratch(board, task.id, workspace, log);
    } catch (err) {
      log.line('kanban', `could not clean up the scratch workspace: ${errorMessage(err)}`); // the run is recorded: this is housekeeping
    }
  }
}

/** Why the supervisor stopped the worker, as the ending reads it (stops that decide nothing of the ending: null). */
const STOPPED_FOR = { timeout: 'timeout', idle: 'idle', stale: 'stale', 'lease lost': 'lease', 'taken back': null, 'supervisor signalled': null, none: null } as const;

/** The descriptor the container reports on, and how much of its report is kept. */
const CONTAINER_REPORT_FD = 3;
const CONTAINER_REPORT_BYTES = 64 * 1024;

/**
 * What the container had to stop: processes the worker left behind when it exited, or the whole tree
 * when the run was stopped. Logged, and a `worker_killed` event names them (best effort: the exit,
 * already recorded, is what matters).
 */
async function noteStoppedProcesses(board: BoardStore, identity: RunIdentity, stopped: StoppedProcess[], stopping: string | null, log: RunLog): Promise<void> {
  if (stopped.length === 0) return;
  const reason = stopping === null ? 'still running when the worker ended' : `stopped with the worker (${stopping})`;
  const names = stopped.map((p) => `${p.pid} ${p.name} (${p.signal})`).join(', ');
  log.line('kanban', `${reason}: ${names}`);
  try {
    await board.transitions.note(identity.taskId, 'worker_killed', { run_id: identity.runId, reason, processes: stopped.slice(0, 100) });
  } catch (err) {
    log.line('kanban', `could not record the worker_killed event: ${errorMessage(err)}`);
  }
}

/**
 * Stops the worker once it has been silent for `idleMs`: no output (`lastOutputAt`, monotonic), and
 * no heartbeat of its own (read from the board when the time comes, since `kanban worker heartbeat`
 * writes there, not to us; its wall-clock stamp is judged step-proof by Elapsed).
 */
function watchIdle(board: BoardStore, identity: RunIdentity, idleMs: number, lastOutputAt: () => number, onIdle: () => void): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const elapsed = new Elapsed();
  const check = async () => {
    let heartbeatAt: number | null = null;
    try {
      heartbeatAt = (await board.lease.check(identity)).last_heartbeat_at;
    } catch {
      // the run was taken back, or the board is busy: judge by the output alone
    }
    if (stopped) return;
    let silentMs = monotonicMs() - lastOutputAt();
    if (heartbeatAt !== null) silentMs = Math.min(silentMs, elapsed.since('heartbeat', heartbeatAt, Date.now()));
    if (silentMs >= idleMs) onIdle();
    else timer = setTimeout(() => void check(), idleMs - silentMs);
  };
  timer = setTimeout(() => void check(), idleMs);
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

function removeRunPrompt(path: string, log: RunLog): void {
  const failure = removePromptFile(path);
  if (failure !== null) log.line('kanban', `could not remove the prompt file: ${failure}`);
}

function bounded(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** An argument as the log and the `spawned` event show it: a prompt in argv is not repeated whole. */
function shortArg(arg: string): string {
  return arg.length > 200 ? `${arg.slice(0, 200)}… (${arg.length} characters)` : arg;
}

/**
 * How a run ended is the one write a run cannot do without (else the reaper must guess, and the task
 * runs again), so a board that is locked, full, read-only or failing I/O is tried again, backing off
 * up to 5 s, for RECORD_PATIENCE_MS. Meanwhile the dispatcher sees the supervisor alive and its worker
 * gone, and waits for it (judge.ts). A write whose outcome is unknown is retried too: it is fenced,
 * so a second try finds the run closed and changes nothing.
 */
async function recordPatiently<T>(write: () => Promise<T>, log: RunLog, what: string): Promise<T> {
  const deadline = monotonicMs() + RECORD_PATIENCE_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      const fault = infrastructureFault(err);
      if (!fault || monotonicMs() >= deadline) throw err;
      const waitMs = Math.min(5000, 100 * 2 ** attempt);
      if (attempt <= 3 || attempt % 20 === 0) log.line('kanban', `could not record ${what} (${fault}): ${errorMessage(err)}; trying again in ${waitMs} ms (attempt ${attempt})`);
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}

async function cleanUpScratch(board: BoardStore, taskId: string, workspace: string, log: RunLog): Promise<void> {
  const result = removeScratchWorkspace(workspace, board.ref.dataDir);
  if (result.removed) {
    await board.transitions.note(taskId, 'workspace_removed', { path: result.path });
    return;
  }
  log.line('kanban', `kept the workspace ${workspace}: ${result.reason}`);
  await board.transitions.note(taskId, 'workspace_kept', { path: workspace, reason: result.reason });
}

