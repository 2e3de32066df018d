import type { Config } from '../config.js';
import type { Settings } from '../settings.js';
import type { BoardStore } from '../port/board.js';
import type { RunIdentity } from '../core/run.js';
import type { Elapsed } from '../elapsed.js';
import type { HookRunner } from '../hooks/runner.js';
import type { GcSchedule } from '../gc.js';
import type { Killer, RunProcess } from './processes.js';

export const STEP_NAMES = ['hosts', 'reap', 'leases', 'stale', 'schedule', 'ready', 'spawn', 'hooks', 'gc'] as const;
export type StepName = (typeof STEP_NAMES)[number];

/** One thing a tick did, or in a dry run would do, to one task. */
export interface TickAction {
  step: StepName;
  action: string;
  task_id: string;
  run_id?: number;
  detail?: string;
  /** The board or the machine failed it (infrastructureFault's kind): not the task's doing. */
  fault?: string;
}

export interface TickResult {
  at: number;
  dry_run: boolean;
  actions: TickAction[];
  /** A step that failed; the others still ran. */
  errors: Array<{ step: StepName | 'clock'; error: string; fault?: string }>;
  /** The board or the machine could not be used for this tick: what went wrong, for the person watching. */
  fault: string | null;
}

/** Everything a step needs: the board, the settings in force, the time, and the outside world. */
export interface TickContext {
  board: BoardStore;
  config: Config;
  settings: Settings;
  now: number;
  /**
   * The board's time now, not the tick's: for rows read after the tick began, which another
   * dispatcher may have written since (a run it just claimed did not start "in the future").
   */
  currentTime(): Promise<number>;
  dryRun: boolean;
  /** This machine's host id: only claims made here have processes this dispatcher can check or signal. */
  host: string;
  /** This machine's name for people and its current boot (a changed boot: its runs died with it). */
  machine: { name: string; bootId: string };
  isRunProcess(pid: number | null, run: RunProcess): boolean;
  killer: Killer;
  /** Silence and lease time, judged so that a step of the wall clock decides nothing (elapsed.ts). */
  elapsed: Elapsed;
  /** Starts the supervisor of a claimed run; returns its pid. */
  launch(identity: RunIdentity): number;
  /** Runs the config's hooks in the background: long-running dispatchers only (null: hooks are left to them). */
  hooks: HookRunner | null;
  /** Retention on the config's `gc:` schedule: long-running dispatchers only (null: none here). */
  gc: GcSchedule | null;
}
