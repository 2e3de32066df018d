import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openStore } from '../src/store/db.js';
import { completeTask } from '../src/store/lifecycle.js';
import { createTask } from '../src/store/tasks.js';
import { medians, report } from './measure.js';

const TASKS = 10_000;
const RUNS = 10;
const TARGET_RATIO = 3.0;
const KANBAN = fileURLToPath(new URL('../bin/kanban.js', import.meta.url));

/** A board of `count` tasks with bodies, assignees, dependency chains and finished work. */
function buildBoard(path: string, count: number): void {
  const store = openStore(path);
  store.writeTxn(() => {
    let previous: string | undefined;
    for (let i = 0; i < count; i++) {
      const parents = previous !== undefined && i % 10 !== 0 ? [previous] : [];
      const { task } = createTask(store, {
        title: `Task ${i}: refactor the ${['parser', 'scheduler', 'renderer', 'store'][i % 4]} module`,
        body: 'Context for the agent. '.repeat(8),
        assignee: i % 3 === 0 ? null : 'coder',
        priority: i % 5,
        parents,
      });
      if (i % 2 === 0) completeTask(store, task.id, 'done');
      previous = task.id;
    }
  });
  store.close();
}

/** `kanban list --json` on 10,000 tasks against bare `node -e 0`, both as whole processes. */
export function benchCli(): { ratio: number } {
  const dir = mkdtempSync(join(tmpdir(), 'kanban-bench-'));
  try {
    const db = join(dir, 'board.db');
    buildBoard(db, TASKS);
    const result = medians(
      {
        node: [process.execPath, '-e', '0'],
        list: [process.execPath, KANBAN, '--db', db, 'list', '--json'],
      },
      RUNS,
    );
    const ratio = result.list! / result.node!;
    report(`kanban list --json on ${TASKS.toLocaleString('en')} tasks (median of ${RUNS}, whole processes)`, [
      ['node -e 0 (baseline)', `${result.node!.toFixed(1)} ms`],
      ['kanban list --json', `${result.list!.toFixed(1)} ms`],
      ['ratio', `${ratio.toFixed(2)}× (target ≤ ${TARGET_RATIO.toFixed(1)}×) ${ratio <= TARGET_RATIO ? 'ok' : 'OVER TARGET'}`],
    ]);
    return { ratio };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) benchCli();
