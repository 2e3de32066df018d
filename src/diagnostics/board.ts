import { thisHost } from '../host.js';
import { boardDiskProblem } from '../faults.js';
import type { Config } from '../config.js';
import { isRunProcess } from '../dispatcher/processes.js';
import type { Settings } from '../settings.js';
import type { BoardStore } from '../port/board.js';
import { diagnose, type Finding } from './rules.js';
import type { ProcessProbe } from '../port/types.js';

export const systemProbe: ProcessProbe = { get host() { return thisHost().id; }, isRunProcess };

/**
 * A finding when the board's folder cannot be written (read-only, no permission) or its disk is
 * (nearly) full. Not a rule: it asks the file system, not the board.
 */
export function boardWritability(dbPath: string): Finding[] {
  const problem = boardDiskProblem(dbPath);
  if (problem === null) return [];
  const fix = { command: 'free space on its disk or make its folder writable; the dispatcher resumes by itself', key: '-' };
  return [{ rule: 'board_unwritable', severity: 'critical', task_id: 'board', title: dbPath, reason: problem, fix }];
}

/** Reads the board's facts and judges them: what `kanban diagnostics` prints and the board flags. */
export async function diagnoseBoard(board: BoardStore, config: Config, settings: Settings, now: number, probe: ProcessProbe = systemProbe): Promise<Finding[]> {
  const thresholds = config.diagnostics;
  const facts = await board.facts.diagnostics(probe, now - thresholds.block_cycle_window_hours * 3_600_000);
  // A board file's folder that cannot be written: asked of the file system, so for a board that is a file.
  const writability = board.ref.kind === 'sqlite' && board.ref.location !== ':memory:' ? boardWritability(board.ref.location) : [];
  return [...writability, ...diagnose(facts, {
    now,
    thresholds,
    heartbeatMaxStaleMs: settings.heartbeatMaxStaleSeconds * 1000,
    crashGraceMs: settings.crashGraceSeconds * 1000,
    leaseGraceMs: 2 * settings.tickSeconds * 1000,
    profiles: config.profiles,
    defaultAssignee: config.default_assignee ?? null,
  })];
}
