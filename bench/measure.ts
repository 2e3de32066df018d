import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** Shared helpers for the benchmarks: whole-process timings and medians. */

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The value `p` (0 to 1) of the way up the sorted values, by the nearest rank: percentile(values, 0.95) is the p95. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** Wall time of one whole process, its output read through a pipe as a script would. */
export function timeProcess(argv: readonly string[]): number {
  const started = performance.now();
  const result = spawnSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30 });
  const elapsed = performance.now() - started;
  if (result.status !== 0) throw new Error(`${argv.join(' ')} exited ${result.status}: ${result.stderr}`);
  return elapsed;
}

/**
 * Times several commands, interleaved so that machine noise falls on all of them alike.
 * Returns the median per command.
 */
export function medians(commands: Record<string, readonly string[]>, runs: number, warmups = 2): Record<string, number> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((name) => [name, []]));
  for (let i = 0; i < warmups + runs; i++) {
    for (const [name, argv] of Object.entries(commands)) {
      const ms = timeProcess(argv);
      if (i >= warmups) samples[name]!.push(ms);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)]));
}

export function report(title: string, rows: Array<[string, string]>): void {
  console.log(`\n${title}`);
  const width = Math.max(...rows.map(([label]) => label.length));
  for (const [label, value] of rows) console.log(`  ${label.padEnd(width)}  ${value}`);
}

/** A ratio against its ceiling: `1.23× (target ≤ 1.5×) ok`, or OVER TARGET. */
export function verdict(ratio: number, target: number): string {
  return `${ratio.toFixed(2)}× (target ≤ ${target}×) ${ratio <= target ? 'ok' : 'OVER TARGET'}`;
}

/**
 * A command's floor: bare node requiring better-sqlite3 and running `body` (CommonJS, with
 * `Database` and the board's `path` in scope), written to `dir`. What any program doing the same
 * work on the same board pays, however its own code were written: a target below it cannot be met.
 */
export function floorCommand(dir: string, name: string, path: string, body: string): string[] {
  const file = join(dir, `floor-${name}.cjs`);
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  writeFileSync(file, `const Database = require(${JSON.stringify(driver)});\nconst path = ${JSON.stringify(path)};\n${body}\n`);
  return [process.execPath, file];
}
