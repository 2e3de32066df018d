// Loaded on demand: `kanban stats`.
import { systemClock } from '../clock.js';
import { cleanLine } from '../sanitize.js';
import { computeStats, sparkline, statsWindow, type ProfileStats, type Stats } from '../stats.js';
import { RUN_OUTCOMES } from '../core/types.js';
import { formatSpan } from '../time.js';
import { withBoard, type GlobalOptions } from './context.js';
import { printTable, writeJson, writeLine } from './output.js';

/** `kanban stats [--json]`: read in one snapshot, never creating a board. */
export async function statsCommand(options: GlobalOptions): Promise<void> {
  const now = systemClock.now();
  const stats = await withBoard(options, async (board) => computeStats(await board.facts.stats(statsWindow(now)), now), 'read');
  if (options.json) writeJson(stats);
  else printStats(stats);
}

function printStats(stats: Stats): void {
  writeLine(`completions/h (24h): ${sparkline(stats.completions_per_hour)}  total ${stats.completions_24h}`);
  writeLine();
  printProfiles(stats.profiles);
  writeLine();
  const wait = stats.rate_limit_wait;
  const waiting = wait.waiting_now > 0 ? `, ${wait.waiting_now} waiting now` : '';
  writeLine(
    `time lost to rate limits: ${formatSpan(wait.last_24h_ms)} in the last 24h, ${formatSpan(wait.total_ms)} in all (${wait.cooldowns} ${wait.cooldowns === 1 ? 'cooldown' : 'cooldowns'}${waiting})`,
  );
  writeLine();
  if (stats.slowest_tasks.length === 0) {
    writeLine('slowest tasks: none has run yet');
    return;
  }
  writeLine('slowest tasks (total run time)');
  printTable(
    ['ID', 'RUN TIME', 'RUNS', 'TITLE'],
    stats.slowest_tasks.map((t) => [t.id, formatSpan(t.run_ms), String(t.runs), cleanLine(t.title)]),
    [1, 2],
  );
}

function printProfiles(profiles: readonly ProfileStats[]): void {
  if (profiles.length === 0) {
    writeLine('runs per profile: no runs yet');
    return;
  }
  // The outcomes that occurred, in the contract's order; any other after them.
  const seen = new Set(profiles.flatMap((p) => Object.keys(p.outcomes)));
  const outcomes = [...RUN_OUTCOMES.filter((o) => seen.has(o)), ...[...seen].filter((o) => !(RUN_OUTCOMES as readonly string[]).includes(o)).sort()];
  writeLine('runs per profile');
  const header = ['PROFILE', 'RUNS', 'RUNNING', ...outcomes.map((o) => o.toUpperCase()), 'MEAN RUN'];
  const rows = profiles.map((p) => [
    p.profile === null ? '(none)' : cleanLine(p.profile),
    String(p.runs),
    String(p.running),
    ...outcomes.map((o) => String(p.outcomes[o] ?? 0)),
    p.mean_run_ms === null ? '—' : formatSpan(p.mean_run_ms),
  ]);
  printTable(header, rows, header.map((_, i) => i).slice(1));
}
