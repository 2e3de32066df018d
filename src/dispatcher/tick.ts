import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { errorMessage } from '../errors.js';
import { thisHost } from '../host.js';
import { infrastructureFault } from '../faults.js';
import { resolveSettings, type Settings } from '../settings.js';
import type { BoardStore } from '../port/board.js';
import { startSupervisor } from '../workers/launch.js';
import { RUN_CONFIG_VARIABLE } from '../workers/plan.js';
import type { StepName, TickAction, TickContext, TickResult } from './context.js';
import { Elapsed } from '../elapsed.js';
import { isRunProcess, Killer } from './processes.js';
import type { HookRunner } from '../hooks/runner.js';
import type { GcSchedule } from '../gc.js';
import { gcStep } from './steps/gc.js';
import { hooksStep } from './steps/hooks.js';
import { hostsStep } from './steps/hosts.js';
import { expiredLeases, staleRuns } from './steps/leases.js';
import { reap } from './steps/reap.js';
import { dueSchedulesStep, readyStep } from './steps/release.js';
import { spawnStep } from './steps/spawn.js';

/**
 * The pipeline, in order. The host says it is alive first (a restarted host's runs are taken back
 * before anything else judges them); reap comes next so that a failure further on can never skip it;
 * hooks are last, so they never delay a claim.
 */
const STEPS: Array<[StepName, (ctx: TickContext) => Promise<TickAction[]>]> = [
  ['hosts', hostsStep],
  ['reap', reap],
  ['leases', expiredLeases],
  ['stale', staleRuns],
  ['schedule', dueSchedulesStep],
  ['ready', readyStep],
  ['spawn', spawnStep],
  ['hooks', hooksStep],
  ['gc', gcStep],
];

export interface TickOptions {
  dryRun?: boolean;
  /** The config the dispatcher runs with: its supervisors must read the same one (a `--config` is not inherited). */
  configPath?: string;
  settings?: Settings;
  killer?: Killer;
  /** A long-running dispatcher passes the same one to every tick; a one-shot tick gets a fresh one. */
  elapsed?: Elapsed;
  host?: string;
  machine?: TickContext['machine'];
  isRunProcess?: TickContext['isRunProcess'];
  launch?: TickContext['launch'];
  /** A long-running dispatcher's hook runner: only those run hooks (a one-shot tick leaves the events to them). */
  hooks?: HookRunner;
  /** A long-running dispatcher's retention schedule (the config's `gc:`); a one-shot tick has none. */
  gc?: GcSchedule;
}

/** The context of a real tick: this host, real processes, real supervisors. */
export function tickContext(board: BoardStore, config: Config, clock: Clock, options: TickOptions = {}): TickContext {
  return {
    board,
    config,
    settings: options.settings ?? resolveSettings(config),
    now: clock.now(),
    currentTime: () => board.now(clock),
    dryRun: options.dryRun ?? false,
    host: options.host ?? thisHost().id,
    machine: options.machine ?? thisHost(),
    isRunProcess: options.isRunProcess ?? isRunProcess,
    killer: options.killer ?? new Killer(),
    elapsed: options.elapsed ?? new Elapsed(),
    launch: options.launch ?? ((identity) => startSupervisor(board.ref, identity, { env: supervisorEnv(config, options.configPath) })),
    hooks: options.hooks ?? null,
    gc: options.gc ?? null,
  };
}

/** Beyond this the config is not handed over in the environment (a variable's limit is 128 KiB); the supervisor reads the file. */
const HANDED_CONFIG_LIMIT = 100_000;

/**
 * A supervisor works with the config this dispatcher validated, handed over in its environment: an
 * edit of the file that does not validate cannot fail a run that was claimed under the good one.
 */
function supervisorEnv(config: Config, configPath: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (configPath) env.KANBAN_CONFIG = configPath;
  const handed = JSON.stringify(config);
  if (handed.length <= HANDED_CONFIG_LIMIT) env[RUN_CONFIG_VARIABLE] = handed;
  else delete env[RUN_CONFIG_VARIABLE];
  return env;
}

/**
 * One dispatcher tick: every step in order, each returning its part of the result. A step that
 * throws is reported and the next one still runs. Safe with several dispatchers on one board: every
 * write is a compare-and-set, and losing a race is not an error.
 */
export async function dispatchOnce(board: BoardStore, config: Config, clock: Clock, options: TickOptions = {}): Promise<TickResult> {
  // The tick judges leases by the board's time (a server board's own clock), read once.
  let now: number;
  try {
    now = await board.now(clock);
  } catch (err) {
    const fault = infrastructureFault(err);
    const error = errorMessage(err);
    return { at: clock.now(), dry_run: options.dryRun ?? false, actions: [], errors: [{ step: 'clock', error, ...(fault && { fault }) }], fault: fault ? `${fault}: ${error}` : null };
  }
  const ctx = { ...tickContext(board, config, clock, options), now };
  const result: TickResult = { at: ctx.now, dry_run: ctx.dryRun, actions: [], errors: [], fault: null };
  ctx.elapsed.beginTick(ctx.now);
  for (const [name, step] of STEPS) {
    try {
      result.actions.push(...(await step(ctx)));
    } catch (err) {
      const fault = infrastructureFault(err);
      result.errors.push({ step: name, error: errorMessage(err), ...(fault && { fault }) });
    }
  }
  const faulty = result.errors.find((e) => e.fault) ?? result.actions.find((a) => a.fault);
  if (faulty) result.fault = `${faulty.fault}: ${'error' in faulty ? faulty.error : faulty.detail ?? ''}`;
  // A WAL that grew (or could not be checkpointed while the disk was full) is folded back and
  // truncated, so it does not keep its size on a small disk and refill it once space returns.
  if (!ctx.dryRun) await board.maintain({ afterDiskFull: faulty?.fault === 'disk full' });
  return result;
}
