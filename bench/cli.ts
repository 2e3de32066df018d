import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openStore } from '../src/store/db.js';
import { completeTask } from '../src/store/lifecycle.js';
import { createTask, listJsonQuery } from '../src/store/tasks.js';
import { floorCommand, medians, report, verdict } from './measure.js';

const TASKS = 10_000;
const RUNS = 10;
/** Issue 15 (it was 3.0). */
const TARGET_RATIO = 2.0;
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

/**
 * The floor of `list --json`: bare node opening the board read-only with better-sqlite3, running the
 * store's own query (SQLite builds each task's JSON) and writing the array out, with none of kanban's code.
 */
function listFloor(): string {
  const { sql, params } = listJsonQuery();
  return `const db = new Database(path, { readonly: true });
const rows = db.prepare(${JSON.stringify(sql)}).pluck().all(...${JSON.stringify(params)});
process.stdout.write(Buffer.concat(['[\\n', ...rows.flatMap((row, i) => (i > 0 ? [',\\n', row] : [row])), '\\n]'].map((part) => (typeof part === 'string' ? Buffer.from(part) : part))));
db.close();`;
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
        floor: floorCommand(dir, 'list', db, listFloor()),
      },
      RUNS,
    );
    const ratio = result.list! / result.node!;
    report(`kanban list --json on ${TASKS.toLocaleString('en')} tasks (median of ${RUNS}, whole processes)`, [
      ['node -e 0 (baseline)', `${result.node!.toFixed(1)} ms`],
      ['kanban list --json', `${result.list!.toFixed(1)} ms`],
      ['floor: node + better-sqlite3 running the same query', `${result.floor!.toFixed(1)} ms`],
      ['ratio', verdict(ratio, TARGET_RATIO)],
      ['floor ÷ node', `${(result.floor! / result.node!).toFixed(2)}×: the least listing these tasks in its own process costs here`],
      ['kanban ÷ floor', `${(result.list! / result.floor!).toFixed(2)}×: what kanban's own code adds (the CLI, the checks at open, the bundle)`],
    ]);
    return { ratio };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) benchCli();
