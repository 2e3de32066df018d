import { execa } from 'execa';
import { loadConfig } from '../config.js';
import { BoardLocked, errorMessage, Refused } from '../errors.js';
import { busyTimeoutMs } from '../env.js';
import { resolveBoardPath, resolveConfigPath, type LocationOptions } from '../location.js';
import { signalGroup } from '../signals.js';
import { DEFAULT_FAILURE_LIMIT, failurePolicyOf, resolveSettings, type Settings } from '../settings.js';
import { openStore, type Store } from '../store/db.js';
import { recordEvent } from '../store/events.js';
import { attachSupervisor, checkOwnership, heartbeat, recordExit, recordFailedRun, recordSpawn, type ExitRecord, type FailurePolicy, type RunIdentity } from '../store/lease.js';
import { runById } from '../store/runs.js';
import type { TaskRow } from '../store/types.js';
import { workerEnv } from './identity.js';
import { profileFor, resolveArgv } from './profiles.js';
import { openTaskLog, RunLog } from './runlog.js';
import { prepareWorkspace, removeScratchWorkspace } from './workspace.js';

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

interface RunPlan {
  settings: Settings;
  argv: string[];
  workspace: string;
  onCleanExit: 'violation' | 'complete';
}

/** Config, profile, workspace and argv for this run; throws with the reason it cannot start. */
function planRun(dbPath: string, options: LocationOptions, identity: RunIdentity, task: TaskRow): RunPlan {
  const config = loadConfig(resolveConfigPath(options));
  const settings = resolveSettings(config);
  const chosen = profileFor(config, task.assignee);
  if ('error' in chosen) throw new Error(chosen.error);
  const workspace = prepareWorkspace(task, dbPath);
  return {
    settings,
    argv: resolveArgv(chosen.profile.command, { task_id: task.id, run_id: String(identity.runId), workspace, board: dbPath }),
    workspace,
    onCleanExit: chosen.profile.on_clean_exit,
  };
}

/** The failure limit when even the config could not be read: the environment's, else the default. */
function fallbackFailures(): FailurePolicy {
  try {
    return failurePolicyOf(resolveSettings());
  } catch {
    return { limit: DEFAULT_FAILURE_LIMIT, limitSource: 'default' };
  }
}

async function superviseOwnedRun(store: Store, dbPath: string, options: LocationOptions, identity: RunIdentity, task: TaskRow, log: RunLog): Promise<void> {
  let plan: RunPlan;
  try {
    plan = planRun(dbPath, options, identity, task);
  } catch (err) {
    const reason = `cannot start the worker: ${errorMessage(err)}`;
    log.line('kanban', reason);
    recordFailedRun(store, identity, 'spawn_failed', reason, fallbackFailures());
    return;
  }
  const { settings, argv, workspace, onCleanExit } = plan;
  const failures = failurePolicyOf(settings);

  log.line('kanban', `starting run ${identity.runId}: ${JSON.stringify(argv)} in ${workspace}`);
  const worker = execa(argv[0]!, argv.slice(1), {
    cwd: workspace,
    env: workerEnv(process.env, identity, dbPath, workspace),
    extendEnv: false,
    detached: true, // its own process group: signals reach everything it started, and not us
    stdin: 'ignore',
    buffer: false,
    reject: false,
    cleanup: false,
  });

  let stopping: 'timeout' | 'taken back' | 'supervisor signalled' | null = null;
  const stop = (why: NonNullable<typeof stopping>) => {
    if (stopping !== null || worker.pid === undefined) return;
    stopping = why;
    log.line('kanban', `stopping the worker (${why}): SIGTERM, SIGKILL after ${KILL_GRACE_MS} ms`);
    signalGroup(worker.pid, 'SIGTERM');
    setTimeout(() => signalGroup(worker.pid!, 'SIGKILL'), KILL_GRACE_MS).unref();
  };

  if (worker.pid !== undefined) {
    try {
      recordSpawn(store, identity, { workerPid: worker.pid, argv, workspace });
      // A started worker is a sign of life: the silence that gets a run reclaimed counts from here,
      // not from the claim (a loaded machine can take a while to get this far).
      heartbeat(store, identity, { source: 'spawn' });
    } catch (err) {
      log.line('kanban', `could not record the worker's pid: ${errorMessage(err)}`);
      if (err instanceof Refused) stop('taken back');
    }
  }

  let lastBridgeAt = -Infinity;
  const onOutput = (stream: 'out' | 'err') => (data: Buffer) => {
    log.chunk(stream, data);
    const now = Date.now();
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
  const forward = () => stop('supervisor signalled');
  const signals = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
  for (const signal of signals) process.on(signal, forward);

  const result = await worker;
  clearTimeout(runtimeTimer);
  for (const signal of signals) process.off(signal, forward);
  log.flush();

  if (worker.pid === undefined) {
    const reason = `cannot start ${JSON.stringify(argv[0])}: ${result.code ?? ''} ${result.shortMessage ?? result.message ?? ''}`.trim();
    log.line('kanban', reason);
    recordFailedRun(store, identity, 'spawn_failed', reason, failures);
    return;
  }

  const exitCode = result.exitCode ?? null;
  const signal = result.signal ?? null;
  log.line('kanban', `worker exited: ${signal ? `signal ${signal}` : `code ${exitCode}`}`);
  let record: ExitRecord;
  try {
    const exit = { exitCode, signal, timedOut: stopping === 'timeout', onCleanExit, failures, rateLimitCooldownMs: settings.rateLimitCooldownSeconds * 1000 };
    record = retryWhileLocked(() => recordExit(store, identity, exit), log);
  } catch (err) {
    log.line('kanban', `could not record the exit: ${errorMessage(err)}`);
    if (err instanceof Refused) return;
    throw err;
  }
  log.line('kanban', `run ${identity.runId} ${record.alreadyClosed ? 'had already ended' : 'ended'}: ${record.outcome}`);
  if (record.task?.status === 'done' && task.workspace_kind === 'scratch') cleanUpScratch(store, dbPath, task.id, workspace, log);
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

