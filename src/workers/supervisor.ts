import { execa } from 'execa';
import { BoardLocked, errorMessage, Refused } from '../errors.js';
import { busyTimeoutMs } from '../env.js';
import { decideEnding } from '../core/ending.js';
import { resolveBoardPath, resolveConfigPath, type LocationOptions } from '../location.js';
import { cleanLine } from '../sanitize.js';
import { signalGroup } from '../signals.js';
import { DEFAULT_FAILURE_LIMIT, failurePolicyOf, resolveSettings } from '../settings.js';
import { openStore, type Store } from '../store/db.js';
import { recordEvent } from '../store/events.js';
import { attachSupervisor, checkOwnership, heartbeat, recordExit, recordFailedRun, recordSpawn, type ExitRecord, type FailurePolicy, type RunIdentity } from '../store/lease.js';
import { runById } from '../store/runs.js';
import type { TaskRow } from '../store/types.js';
import { workerEnv } from './identity.js';
import { ConfigFault, planRun, removePromptFile, RUN_CONFIG_VARIABLE, type RunPlan } from './plan.js';
import { openTaskLog, RunLog } from './runlog.js';
import { removeScratchWorkspace } from './workspace.js';

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
  const dbPath = resolveBoardPath(options);
  const store = openStore(dbPath, { busyTimeoutMs: busyTimeoutMs() });
  const log = new RunLog(openTaskLog(dbPath, taskId), runId);
  try {
    const run = runById(store, taskId, runId);
    if (!run) {
      log.line('kanban', `run ${runId} is not a run of ${taskId}: nothing to do`);
      return;
    }
    const identity: RunIdentity = { taskId, runId, claimLock: run.claim_lock };
    let task: TaskRow;
    try {
      task = checkOwnership(store, identity);
      attachSupervisor(store, identity, process.pid);
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
      log.line('kanban', `stale start, not spawning: ${err.message}`);
      return;
    }
    await superviseOwnedRun(store, dbPath, options, identity, task, log);
  } finally {
    log.close();
    store.close();
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

async function superviseOwnedRun(store: Store, dbPath: string, options: LocationOptions, identity: RunIdentity, task: TaskRow, log: RunLog): Promise<void> {
  let plan: RunPlan;
  try {
    plan = planRun(store, dbPath, resolveConfigPath(options), identity, task);
  } catch (err) {
    const reason = `cannot start the worker: ${errorMessage(err)}`;
    log.line('kanban', reason);
    const fault = err instanceof ConfigFault;
    recordFailedRun(store, identity, 'spawn_failed', reason, fallbackFailures(), fault ? { retryInMs: CONFIG_FAULT_RETRY_MS } : undefined);
    return;
  }
  try {
    await runWorker(store, dbPath, identity, task, plan, log);
  } finally {
    removePromptFile(plan.promptFile); // also when the worker never started
  }
}

async function runWorker(store: Store, dbPath: string, identity: RunIdentity, task: TaskRow, plan: RunPlan, log: RunLog): Promise<void> {
  const { settings, argv, workspace } = plan;
  const failures = failurePolicyOf(settings);

  log.line('kanban', `starting run ${identity.runId} (profile ${plan.profileName}): ${JSON.stringify(argv.map(shortArg))} in ${workspace}`);
  const { [RUN_CONFIG_VARIABLE]: _handed, ...inherited } = process.env;
  const worker = execa(argv[0]!, argv.slice(1), {
    cwd: workspace,
    env: workerEnv({ ...inherited, ...plan.env }, identity, dbPath, workspace),
    extendEnv: false,
    detached: true, // its own process group: signals reach everything it started, and not us
    ...(plan.stdin === null ? { stdin: 'ignore' as const } : { input: plan.stdin }),
    buffer: false,
    reject: false,
    cleanup: false,
  });

  let stopping: 'timeout' | 'idle' | 'taken back' | 'supervisor signalled' | null = null;
  const stop = (why: NonNullable<typeof stopping>) => {
    if (stopping !== null || worker.pid === undefined) return;
    stopping = why;
    log.line('kanban', `stopping the worker (${why}): SIGTERM, SIGKILL after ${KILL_GRACE_MS} ms`);
    signalGroup(worker.pid, 'SIGTERM');
    setTimeout(() => signalGroup(worker.pid!, 'SIGKILL'), KILL_GRACE_MS).unref();
  };

  if (worker.pid !== undefined) {
    try {
      recordSpawn(store, identity, { workerPid: worker.pid, argv: argv.map(shortArg), workspace });
      // A started worker is a sign of life: the silence that gets a run reclaimed counts from here,
      // not from the claim (a loaded machine can take a while to get this far).
      heartbeat(store, identity, { source: 'spawn' });
    } catch (err) {
      log.line('kanban', `could not record the worker's pid: ${errorMessage(err)}`);
      if (err instanceof Refused) stop('taken back');
    }
  }

  const tails = { out: new Tail(STDOUT_TAIL_BYTES), err: new Tail(STDERR_TAIL_BYTES) };
  let lastOutputAt = Date.now();
  let lastBridgeAt = -Infinity;
  const onOutput = (stream: 'out' | 'err') => (data: Buffer) => {
    log.chunk(stream, data);
    tails[stream].push(data);
    const now = Date.now();
    lastOutputAt = now;
    if (now - lastBridgeAt < settings.heartbeatBridgeSeconds * 1000) return;
    lastBridgeAt = now;
    try {
      heartbeat(store, identity, { source: 'bridge' });
    } catch (err) {
      // Best effort: a busy board is retried on the next output; a run taken back stops the worker.
      log.line('kanban', `heartbeat from output failed: ${errorMessage(err)}`);
      if (err instanceof Refused) stop('taken back');
    }
  };
  worker.stdout?.on('data', onOutput('out'));
  worker.stderr?.on('data', onOutput('err'));

  const maxRuntimeMs = (task.max_runtime_seconds ?? 0) * 1000;
  const runtimeTimer = maxRuntimeMs > 0 ? setTimeout(() => stop('timeout'), maxRuntimeMs) : undefined;
  const idleWatch = plan.idleTimeoutSeconds ? watchIdle(store, identity, plan.idleTimeoutSeconds * 1000, () => lastOutputAt, () => stop('idle')) : undefined;
  const forward = () => stop('supervisor signalled');
  const signals = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
  for (const signal of signals) process.on(signal, forward);

  const result = await worker;
  removePromptFile(plan.promptFile); // before the exit is recorded: once the run has ended, it is gone
  clearTimeout(runtimeTimer);
  idleWatch?.stop();
  for (const signal of signals) process.off(signal, forward);
  log.flush();

  if (worker.pid === undefined) {
    const reason = `cannot start ${JSON.stringify(argv[0])}: ${result.code ?? ''} ${result.shortMessage ?? result.message ?? ''}`.trim();
    log.line('kanban', reason);
    // A program that is not there (or not executable) is the config's or the machine's fault, not the task's.
    const missing = result.code === 'ENOENT' || result.code === 'EACCES';
    recordFailedRun(store, identity, 'spawn_failed', cleanLine(reason), failures, missing ? { retryInMs: CONFIG_FAULT_RETRY_MS } : undefined);
    return;
  }

  const exitCode = result.exitCode ?? null;
  const signal = result.signal ?? null;
  const now = Date.now();
  const transcript = { exitCode, signal, stdout: tails.out.text(), stderr: tails.err.text() };
  const ending = decideEnding({
    exitCode,
    signal,
    stoppedFor: stopping === 'timeout' ? 'timeout' : stopping === 'idle' ? 'idle' : null,
    idleTimeoutSeconds: plan.idleTimeoutSeconds,
    verdict: plan.classify(transcript, now),
    onCleanExit: plan.onCleanExit,
    onSuccess: plan.onSuccess,
    profile: plan.profileName,
    now,
    cooldown: { defaultMs: settings.rateLimitCooldownSeconds * 1000, maxMs: settings.rateLimitMaxCooldownSeconds * 1000 },
  });
  const sanitized = { ...ending, error: ending.error === null ? null : bounded(cleanLine(ending.error), 1000), summary: ending.summary === null ? null : bounded(ending.summary, 64 * 1024) };
  log.line('kanban', `worker exited: ${signal ? `signal ${signal}` : `code ${exitCode}`}${sanitized.error ? ` (${sanitized.error})` : ''}`);
  let record: ExitRecord;
  try {
    record = retryWhileLocked(() => recordExit(store, identity, { exitCode, signal, failures, ending: sanitized }), log);
  } catch (err) {
    log.line('kanban', `could not record the exit: ${errorMessage(err)}`);
    if (err instanceof Refused) return;
    throw err;
  }
  log.line('kanban', `run ${identity.runId} ${record.alreadyClosed ? 'had already ended' : 'ended'}: ${record.outcome}`);
  if (record.task?.status === 'done' && task.workspace_kind === 'scratch') cleanUpScratch(store, dbPath, task.id, workspace, log);
}

/**
 * Stops the worker once it has been silent for `idleMs`: no output, and no heartbeat of its own (read
 * from the board when the time comes, since `kanban worker heartbeat` writes there, not to us).
 */
function watchIdle(store: Store, identity: RunIdentity, idleMs: number, lastOutputAt: () => number, onIdle: () => void): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  const check = () => {
    let heardAt = lastOutputAt();
    try {
      heardAt = Math.max(heardAt, checkOwnership(store, identity).last_heartbeat_at ?? 0);
    } catch {
      // the run was taken back, or the board is busy: judge by the output alone
    }
    const silentMs = Date.now() - heardAt;
    if (silentMs >= idleMs) onIdle();
    else timer = setTimeout(check, idleMs - silentMs);
  };
  timer = setTimeout(check, idleMs);
  return { stop: () => clearTimeout(timer) };
}

/** The last `limit` bytes of a stream, cut at a line start. */
class Tail {
  private chunks: string[] = [];
  private size = 0;
  constructor(private readonly limit: number) {}

  push(data: Buffer): void {
    const text = data.toString();
    this.chunks.push(text);
    this.size += text.length;
    if (this.size > 2 * this.limit) this.chunks = [this.text()];
  }

  text(): string {
    const all = this.chunks.join('');
    this.size = all.length;
    if (all.length <= this.limit) return all;
    const cut = all.slice(all.length - this.limit);
    const newline = cut.indexOf('\n');
    return newline >= 0 ? cut.slice(newline + 1) : cut;
  }
}

function bounded(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** An argument as the log and the `spawned` event show it: a prompt in argv is not repeated whole. */
function shortArg(arg: string): string {
  return arg.length > 200 ? `${arg.slice(0, 200)}… (${arg.length} characters)` : arg;
}

/**
 * The exit is the one write a run cannot do without (else the reaper must guess it), so a board
 * locked past the busy timeout is tried again a few times before giving up.
 */
function retryWhileLocked<T>(write: () => T, log: RunLog, attempts = 3): T {
  for (let attempt = 1; ; attempt++) {
    try {
      return write();
    } catch (err) {
      if (!(err instanceof BoardLocked) || attempt >= attempts) throw err;
      log.line('kanban', `${err.message}; trying again (${attempt} of ${attempts - 1})`);
    }
  }
}

function cleanUpScratch(store: Store, dbPath: string, taskId: string, workspace: string, log: RunLog): void {
  const result = removeScratchWorkspace(workspace, dbPath);
  if (result.removed) {
    recordEvent(store, taskId, 'workspace_removed', { path: result.path });
    return;
  }
  log.line('kanban', `kept the workspace ${workspace}: ${result.reason}`);
  recordEvent(store, taskId, 'workspace_kept', { path: workspace, reason: result.reason });
}

