import { hostname } from 'node:os';
import type { Config } from '../config.js';
import { isRunProcess } from '../dispatcher/processes.js';
import type { Settings } from '../settings.js';
import type { Store } from '../store/db.js';
import { loadBoardFacts, type ProcessProbe } from '../store/diagnostics.js';
import { diagnose, type Finding } from './rules.js';

export const systemProbe: ProcessProbe = { host: hostname(), isRunProcess };

/** Reads the board's facts and judges them: what `kanban diagnostics` prints and the board flags. */
export function diagnoseBoard(store: Store, config: Config, settings: Settings, now: number, probe: ProcessProbe = systemProbe): Finding[] {
  const thresholds = config.diagnostics;
  const facts = loadBoardFacts(store, probe, now - thresholds.block_cycle_window_hours * 3_600_000);
  return diagnose(facts, {
    now,
    thresholds,
    heartbeatMaxStaleMs: settings.heartbeatMaxStaleSeconds * 1000,
    crashGraceMs: settings.crashGraceSeconds * 1000,
    leaseGraceMs: 2 * settings.tickSeconds * 1000,
    profiles: config.profiles,
    defaultAssignee: config.default_assignee ?? null,
  });
}
