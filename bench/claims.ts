import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openBoard } from '../src/port/open.js';
import { median, report } from './measure.js';
import { benchPostgres, type BenchPostgres } from './postgres.js';
import { startWorkers, type BoardWorker, type ClaimReport } from './workers.js';

/** KANBAN_BENCH_CLAIMS=2000 KANBAN_BENCH_ROUNDS=5: a bigger pool, more rounds (to tell a small difference from noise). */
const POOL = Number(process.env.KANBAN_BENCH_CLAIMS ?? 1_000);
const ROUNDS = Number(process.env.KANBAN_BENCH_ROUNDS ?? 3);
/** How many ready tasks a claimer reads at a time (readyQueue's limit) before claiming them in turn. */
const BATCH = Number(process.env.KANBAN_BENCH_CLAIM_BATCH ?? 16);
const CLAIMERS = [1, 2, 3, 4];
/** Issue 15's fairness goal: with 3 dispatchers on one board, none gets less than a fifth of the claims. */
const FAIR_CLAIMERS = 3;
const FAIR_LEAST_SHARE = 0.2;
const WARMUP_POOL = 200;

type Backend = 'sqlite' | 'postgres';
type Mode = 'caps' | 'nocaps';

interface Sample {
  rate: number;
  /** Each claimer's share of the claims, largest first. */
  shares: number[];
  lostPerClaim: number;
  longestGapMs: number;
  errors: string[];
}

/** A new board of `count` ready tasks: a SQLite file in `dir`, or a new database on the server. */
async function newBoard(backend: Backend, dir: string, label: string, count: number, server: BenchPostgres | null): Promise<{ location: string; drop(): Promise<void> }> {
  const made =
    backend === 'sqlite'
      ? { url: join(dir, `${label}.db`), drop: async () => ['', '-wal', '-shm'].forEach((end) => rmSync(join(dir, `${label}.db${end}`), { force: true })) }
      : await server!.database(label);
  const board = await openBoard(made.url);
  try {
    await board.transitions.createMany(Array.from({ length: count }, (_, i) => ({ input: { title: `Task ${i}: claim me` }, label: `task ${i}` })));
  } finally {
    await board.close();
  }
  return { location: made.url, drop: made.drop };
}

/** All `claimers` open the board, then claim on one word, together, until the pool is empty. */
async function claimRound(claimers: BoardWorker[], location: string, pool: number, caps: boolean): Promise<Sample> {
  await Promise.all(claimers.map((c) => c.request({ type: 'open', location, caps, batch: BATCH }, 'ready')));
  const started = performance.now();
  for (const c of claimers) c.send({ type: 'claim' });
  const reports: ClaimReport[] = await Promise.all(claimers.map((c) => c.next('done')));
  const elapsed = performance.now() - started;
  await Promise.all(claimers.map((c) => c.request({ type: 'close' }, 'closed')));
  const claimed = reports.reduce((sum, r) => sum + r.claimed, 0);
  const errors = reports.flatMap((r) => r.errors);
  if (claimed !== pool) errors.push(`${claimed} claims of a pool of ${pool}`);
  const atCap = reports.reduce((sum, r) => sum + r.atCap, 0);
  if (atCap > 0) errors.push(`${atCap} claims refused at a cap`);
  return {
    rate: claimed / (elapsed / 1000),
    shares: reports.map((r) => r.claimed / claimed).sort((a, b) => b - a),
    lostPerClaim: reports.reduce((sum, r) => sum + r.lost, 0) / claimed,
    longestGapMs: Math.max(...reports.map((r) => r.longestGapMs)),
    errors,
  };
}

const percent = (share: number) => `${(share * 100).toFixed(0)}%`;
const ms = (value: number) => (value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${value.toFixed(0)} ms`);

/**
 * Claims per second through the board port, SQLite against PostgreSQL, with 1, 2, 3 and 4 claimers,
 * each its own process with its own connection, all claiming from one pool of ready tasks as the
 * dispatcher's spawn step does. Rounds interleaved (SQLite 1, PostgreSQL 1, SQLite 2, …), so that
 * machine noise falls on both alike; medians.
 */
export async function benchClaims(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kanban-bench-claims-'));
  const pg = await benchPostgres();
  const server = 'skipped' in pg ? null : pg;
  const backends: Backend[] = server ? ['sqlite', 'postgres'] : ['sqlite'];
  const claimers = startWorkers(Math.max(...CLAIMERS));
  const samples = new Map<string, Sample[]>();
  const key = (backend: Backend, count: number, mode: Mode) => `${backend} ${count} ${mode}`;
  let boards = 0;
  try {
    // A warm-up on each backend with every claimer (loading, the JIT, the server's caches), not counted.
    for (const backend of backends) {
      const board = await newBoard(backend, dir, `warmup-${backend}`, WARMUP_POOL, server);
      await claimRound(claimers, board.location, WARMUP_POOL, true);
      await board.drop();
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const count of CLAIMERS) {
        for (const mode of ['caps', 'nocaps'] as const) {
          for (const backend of backends) {
            const board = await newBoard(backend, dir, `claims-${++boards}`, POOL, server);
            try {
              const sample = await claimRound(claimers.slice(0, count), board.location, POOL, mode === 'caps');
              samples.set(key(backend, count, mode), [...(samples.get(key(backend, count, mode)) ?? []), sample]);
            } finally {
              await board.drop();
            }
          }
        }
      }
    }
  } finally {
    await Promise.all(claimers.map((c) => c.exit()));
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const of = (backend: Backend, count: number, mode: Mode) => samples.get(key(backend, count, mode)) ?? [];
  const rate = (backend: Backend, count: number, mode: Mode) => median(of(backend, count, mode).map((s) => s.rate));
  const label = (count: number) => `${count} claimer${count === 1 ? ' ' : 's'}`;
  const rows: Array<[string, string]> = [];
  for (const mode of ['caps', 'nocaps'] as const) {
    for (const count of CLAIMERS) {
      const sqlite = rate('sqlite', count, mode);
      const line = `SQLite ${sqlite.toFixed(0)} /s (baseline)`;
      if (!server) rows.push([`${label(count)}, ${mode === 'caps' ? 'with caps' : 'no caps  '}`, line]);
      else {
        const pgRate = rate('postgres', count, mode);
        rows.push([`${label(count)}, ${mode === 'caps' ? 'with caps' : 'no caps  '}`, `${line} · PostgreSQL ${pgRate.toFixed(0)} /s · ratio ${(pgRate / sqlite).toFixed(2)}×`]);
      }
    }
  }
  for (const count of CLAIMERS) {
    const cost = (backend: Backend) => `${backend === 'sqlite' ? 'SQLite' : 'PostgreSQL'} ${(rate(backend, count, 'caps') / rate(backend, count, 'nocaps')).toFixed(2)}×`;
    rows.push([`caps' cost, ${label(count)}`, `with caps / without: ${backends.map(cost).join(' · ')}`]);
  }
  report(
    `claims/s through the port: ${POOL.toLocaleString('en')} ready tasks, ${CLAIMERS.join(', ')} claimers each its own process (readyQueue(${BATCH}), then the first of what is left of it claimed, claimFirst, until none is; median of ${ROUNDS} interleaved rounds)` +
      `\n  with caps: { board: 1,000,000 } as the dispatcher passes them (PostgreSQL: a board-wide advisory lock per claim); no caps: caps omitted;` +
      `\n  claimed tasks stay running, so the running count a capped claim reads grows to ${POOL.toLocaleString('en')} (a real board holds at most max_in_progress)` +
      `\n  SQLite: WAL, synchronous=FULL, on ${tmpdir()}; PostgreSQL: ${server ? server.source : `skipped: ${(pg as { skipped: string }).skipped}`}`,
    rows,
  );

  const fairness: Array<[string, string]> = [];
  for (const mode of ['caps', 'nocaps'] as const) {
    for (const count of CLAIMERS.filter((c) => c > 1)) {
      for (const backend of backends) {
        const runs = of(backend, count, mode);
        const byRank = Array.from({ length: count }, (_, rank) => median(runs.map((s) => s.shares[rank]!)));
        fairness.push([
          `${backend === 'sqlite' ? 'SQLite    ' : 'PostgreSQL'} ${label(count)}, ${mode === 'caps' ? 'with caps' : 'no caps  '}`,
          `shares ${byRank.map(percent).join(' / ')} · lost to another ${median(runs.map((s) => s.lostPerClaim)).toFixed(2)} per claim · longest wait for a claim ${ms(median(runs.map((s) => s.longestGapMs)))}` +
            (count === FAIR_CLAIMERS ? ` · least share ${percent(byRank.at(-1)!)} (target ≥ ${percent(FAIR_LEAST_SHARE)}) ${byRank.at(-1)! >= FAIR_LEAST_SHARE ? 'ok' : 'UNFAIR'}` : ''),
        ]);
      }
    }
  }
  report(`fairness: each claimer's share of the claims, largest first (even would be ${CLAIMERS.filter((c) => c > 1).map((c) => percent(1 / c)).join(', ')}); medians of ${ROUNDS} rounds`, fairness);

  const errors = [...samples.values()].flat().flatMap((s) => s.errors);
  if (errors.length > 0) {
    const counts = new Map<string, number>();
    for (const e of errors) counts.set(e, (counts.get(e) ?? 0) + 1);
    report('claims that failed other than Refused (a bug or a fault: none expected)', [...counts].slice(0, 10).map(([e, n]) => [`${n}×`, e]));
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) await benchClaims();
