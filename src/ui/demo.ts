import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import type { BoardStore } from '../port/board.js';
import { openBoard } from '../port/open.js';
import { kanbanBin } from '../workers/launch.js';
import type { BatchItem, CreateInput } from '../port/types.js';

/**
 * `kanban tui --demo`: a board whose profiles are small scripts shipped with kanban, seeded so that
 * within a minute a new user sees every column and every recovery path: work completing, a long run
 * kept alive by heartbeats, crashes tripping the breaker, a rate limit waited out, a worker handing
 * over for review, a chain of dependencies and a scheduled task; about two minutes of work, with
 * every column filled at some point. Reused if it has tasks already, unless `reset` (`--demo
 * --reset`): then the demo's folder (its board, logs and workspaces, nothing else) starts afresh.
 */
export async function prepareDemo(dbPath: string, reset = false): Promise<{ configPath: string }> {
  const dir = dirname(dbPath);
  if (reset) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const workers = join(dirname(dirname(kanbanBin())), 'demo', 'workers');
  const profile = (script: string) => ({ command: [process.execPath, join(workers, `${script}.mjs`)] });
  const configPath = join(dir, 'config.yaml');
  writeFileSync(
    configPath,
    `# The demo's config, written by kanban tui --demo (short durations so that things happen while you watch).\n${stringify({
      profiles: { writer: profile('writer'), long: profile('long'), crasher: profile('crasher'), limited: profile('limited'), reviewer: profile('reviewer') },
      tick_seconds: 1,
      claim_ttl_seconds: 20,
      heartbeat_bridge_seconds: 2,
      heartbeat_max_stale_seconds: 60,
      rate_limit_cooldown_seconds: 30,
      failure_limit: 2,
      max_in_progress: 4,
    })}`,
  );
  const board = await openBoard(dbPath);
  try {
    if ((await board.tasks.count()) === 0) await seed(board);
  } finally {
    await board.close();
  }
  return { configPath };
}

/** The demo's tasks, created in one transaction; the nightly report scheduled a minute out. */
async function seed(board: BoardStore): Promise<void> {
  const items: BatchItem[] = [];
  const make = (title: string, assignee: string | null, priority: number, extra: Partial<CreateInput> = {}, parentItems?: number[]) =>
    items.push({ input: { title, assignee, priority, ...extra }, label: title, ...(parentItems && { parentItems }) }) - 1;
  make('Flaky integration test (crashes: the breaker blocks it)', 'crasher', 3, { body: 'Fails every time. After two crashes the circuit breaker blocks it; press u to try again.' });
  make('Summarize the logs (rate limited once, then fine)', 'limited', 3, { body: 'Exits 75 the first time: back to ready, no failure counted; its card counts down to the retry (30 s).' });
  make('Refactor auth (hands over for review)', 'reviewer', 2, { body: 'Does its part, comments, then sends the work to review: y approves, n asks for changes.' });
  make('Migrate the database (a long run kept alive by heartbeats)', 'long', 2, { body: 'Silent for 45 s but calls kanban worker heartbeat every 3 s, so its lease never lapses.' });
  const design = make('Design the API', 'writer', 1);
  const build = make('Build the API (waits for the design)', 'writer', 1, {}, [design]);
  make('Document the API (waits for the build)', 'writer', 1, {}, [build]);
  make('Write the changelog', 'writer', 0);
  make('Update the dependencies', 'writer', 0);
  make('Benchmark the parser', 'writer', 0);
  make('Release notes (waits for the docs)', 'writer', 0, {}, [build]);
  const report = make('Nightly report (scheduled)', 'writer', 0);
  make('Idea: a dark theme for the board', null, 0, { triage: true, body: 'Untriaged: press p to promote it, or x to close it.' });
  const created = await board.transitions.createMany(items);
  await board.transitions.schedule(created[report]!.task.id, Date.now() + 60_000, 'runs in a minute');
}
