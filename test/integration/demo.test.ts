import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { openStore, type Store } from '../../src/store/db.js';
import { listTasks, showTask } from '../../src/store/tasks.js';
import { completeTask } from '../../src/store/lifecycle.js';
import { prepareDemo } from '../../src/ui/demo.js';
import { kanban } from '../helpers/cli.js';
import { tempDir } from '../helpers/board.js';
import { KANBAN_BIN } from '../helpers/cli.js';
import { cleanEnv, exited } from '../helpers/processes.js';
import { killBoardProcesses } from '../../chaos/harness.js';
import { waitFor } from '../helpers/workers.js';

const stops: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

describe('kanban tui --demo', () => {
  it('seeds a demo board whose shipped workers show the recovery paths within seconds', async () => {
    const home = tempDir('kanban-demo-');
    const child = spawn(process.execPath, [KANBAN_BIN, 'tui', '--demo', '--no-ui'], { env: { ...cleanEnv(), KANBAN_HOME: home }, stdio: ['ignore', 'ignore', 'pipe'] });
    stops.push(async () => {
      child.kill('SIGINT');
      await exited(child);
    });
    const db = join(home, 'boards', 'demo', 'board.db');
    await waitFor('the demo board', () => existsSync(db), 10_000);
    const config = parse(readFileSync(join(home, 'boards', 'demo', 'config.yaml'), 'utf8')) as { profiles: Record<string, { command: string[] }> };
    for (const profile of Object.values(config.profiles)) expect(existsSync(profile.command[1]!)).toBe(true);

    const store: Store = openStore(db);
    stops.push(async () => {
      killBoardProcesses(store.path); // the demo's workers outlive the dispatcher by design, not the test
      store.close();
    });
    const kinds = () => new Set(listTasks(store, { statuses: ['triage', 'todo', 'ready', 'running', 'blocked', 'scheduled', 'review', 'done'] }).flatMap((t) => showTask(store, t.id).events.map((e) => e.kind)));
    const statuses = () => new Set(listTasks(store).map((t) => t.status));
    await waitFor(
      'a completion, the breaker, a rate limit, a hand-over for review, a heartbeat',
      () => ['completed', 'gave_up', 'rate_limited', 'review', 'heartbeat'].every((k) => kinds().has(k)),
      30_000,
      500,
    );
    const seen = statuses();
    for (const status of ['triage', 'blocked', 'review', 'done']) expect(seen.has(status as never)).toBe(true);
  }, 45_000);

  it('--reset starts the demo afresh; it is refused without --demo, or with --db', async () => {
    const db = join(tempDir('kanban-demo-'), 'demo', 'board.db');
    await prepareDemo(db);
    const store = openStore(db);
    const seeded = listTasks(store);
    completeTask(store, seeded.find((t) => t.status === 'ready')!.id);
    store.close();
    await prepareDemo(db); // reused as it is
    const again = openStore(db);
    expect(listTasks(again).filter((t) => t.status === 'done')).toHaveLength(1);
    again.close();
    await prepareDemo(db, true);
    const fresh = openStore(db);
    expect(listTasks(fresh)).toHaveLength(seeded.length);
    expect(listTasks(fresh).filter((t) => t.status === 'done')).toHaveLength(0);
    fresh.close();
    for (const args of [['tui', '--reset', '--no-ui'], ['--db', db, 'tui', '--demo', '--reset', '--no-ui']]) {
      const result = kanban(args, { ...cleanEnv(), KANBAN_HOME: tempDir('kanban-demo-') });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(/^kanban: --reset /);
    }
  });
});
