import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { BOARD_COLUMNS } from '../../src/core/types.js';
import { dispatchOnce, type TickOptions } from '../../src/dispatcher/tick.js';
import { Killer } from '../../src/dispatcher/processes.js';
import { resolveSettings } from '../../src/settings.js';
import { thisHost } from '../../src/host.js';
import { SqliteBoard } from '../../src/store/sqlite-board.js';
import type { Store } from '../../src/store/db.js';
import { completeTask } from '../../src/store/lifecycle.js';
import { createTask } from '../../src/store/tasks.js';
import { claimOrFail, manualClock, testStore } from '../helpers/board.js';

/**
 * Issue 15's "flat in history": with the same work in flight, what a tick, the board and the writes
 * cost must not grow with the board's past. Every statement they prepare is planned here
 * (`EXPLAIN QUERY PLAN`), and none may walk a table that only grows (tasks, runs, events, comments,
 * links), except through a partial index that holds only work in flight. (A filtered column count
 * walks the tasks it matches, but no tick or first frame filters.)
 */
const GROWING = /^SCAN (tasks|task_events|task_runs|task_comments|task_links)\b/;
/** Partial indexes whose rows are work in flight only: walking them follows the work, not the past. */
const IN_FLIGHT_INDEXES = ['task_runs_open'];

/** Every statement `store` prepares while `body` runs. */
async function statementsOf(store: Store, body: () => Promise<unknown>): Promise<string[]> {
  const seen = new Set<string>();
  const prepare = store.db.prepare.bind(store.db);
  store.db.prepare = ((sql: string) => (seen.add(sql.replace(/\s+/g, ' ').trim()), prepare(sql))) as typeof store.db.prepare;
  try {
    await body();
  } finally {
    store.db.prepare = prepare;
  }
  return [...seen];
}

/** The steps of the statement's plan, parameters bound as NULL (outside string literals). */
function planSteps(store: Store, sql: string): string[] {
  const unbound = sql.replace(/'(?:[^']|'')*'|(\?\d*|[@:$][A-Za-z_]\w*)/g, (match, parameter) => (parameter ? 'NULL' : match));
  return (store.db.prepare(`EXPLAIN QUERY PLAN ${unbound}`).all() as Array<{ detail: string }>).map((row) => row.detail);
}

/** The plan's walks of growing tables. */
function walks(store: Store, sql: string): string[] {
  return planSteps(store, sql).filter((detail) => GROWING.test(detail) && !IN_FLIGHT_INDEXES.some((index) => detail.endsWith(`USING INDEX ${index}`)));
}

describe('query plans: cost that follows the work in flight', () => {
  it("the tick's, the board's and the writes' statements walk no growing table", async () => {
    const clock = manualClock();
    const store = testStore(clock);
    const board = new SqliteBoard(store);
    const config = parseConfig(JSON.stringify({ profiles: { coder: { command: ['agent'] } } }), 'test.yaml');
    const options = (more: TickOptions = {}): TickOptions => ({ settings: resolveSettings(config, {}), host: thisHost().id, killer: new Killer(0), isRunProcess: () => false, launch: () => 99_999, ...more });
    const statements = await statementsOf(store, async () => {
      // Writes: create, complete, claim, heartbeat, comment, block.
      for (let i = 0; i < 200; i++) {
        const { task } = createTask(store, { title: `task ${i}`, assignee: 'coder' });
        if (i % 2 === 0) completeTask(store, task.id, 'done');
      }
      const claim = claimOrFail(store, createTask(store, { title: 'running', assignee: 'coder' }).task.id, { profile: 'coder', leaseMs: 60_000 });
      await board.lease.heartbeat(claim.identity, { source: 'worker' });
      await board.transitions.comment(claim.identity.taskId, 'a note');
      await board.lease.comment(claim.identity, 'from the worker');
      // Ticks: a dry run, one that claims and starts, one an hour later that reaps and takes back.
      await dispatchOnce(board, config, clock, options({ dryRun: true }));
      await dispatchOnce(board, config, clock, options());
      clock.advance(3_600_000);
      await dispatchOnce(board, config, clock, options());
      // The board: its counts, its first view, a task's drawer; list --status ready; diagnostics.
      await board.windows.counts();
      await board.windows.view({ statuses: BOARD_COLUMNS, cursors: {}, filter: '', perColumn: 20 });
      await board.tasks.show(claim.identity.taskId);
      await board.tasks.list({ statuses: ['ready'] });
      await board.facts.diagnostics({ host: thisHost().id, isRunProcess: () => false }, clock.now() - 86_400_000);
    });
    expect(statements.length).toBeGreaterThan(30);
    expect(statements.flatMap((sql) => walks(store, sql).map((walk) => ({ sql, walk })))).toEqual([]);
  });

  it("retention's walks start at their cursor (a range on both ends of the index) and never sort: a batch costs what it takes, however many tasks passes before it took; the sweep looks tasks up", async () => {
    const clock = manualClock();
    const store = testStore(clock);
    const board = new SqliteBoard(store);
    const statements = await statementsOf(store, async () => {
      await board.retention.collect({ before: clock.now(), limit: 10 });
      await board.retention.collect({ before: clock.now(), limit: 10, after: { at: 1, id: 't_00000000' }, dryRun: true });
      await board.retention.archiveDone({ before: clock.now(), limit: 10 });
      await board.retention.collectedTasks(['t_00000000', 't_00000001']);
    });
    const plans = statements.map((sql) => ({ sql, plan: planSteps(store, sql).join(' | ') }));
    const walksOfTasks = plans.filter(({ sql }) => /FROM tasks .*LIMIT/.test(sql));
    expect(walksOfTasks).toHaveLength(2);
    for (const { plan } of walksOfTasks) expect(plan).toMatch(/^SEARCH tasks USING (COVERING )?INDEX \w+ \((status=\? AND )?\w+>\? AND \w+<\?\)$/);
    expect(plans.filter(({ plan }) => plan.includes('TEMP B-TREE'))).toEqual([]);
    // The sweep asks about the tasks it found files of: each looked up, none walked.
    const sweep = statements.filter((sql) => sql.includes('JOIN collected_tasks'));
    expect(sweep).toHaveLength(1);
    expect(planSteps(store, sweep[0]!)).toEqual([
      expect.stringMatching(/^SCAN j VIRTUAL TABLE/),
      expect.stringMatching(/^SEARCH t USING INDEX \w+ \(id=\?\)$/),
      expect.stringMatching(/^SEARCH c USING PRIMARY KEY \(task_id=\?\)$/),
    ]);
  });

  it('a filter of 3 characters or more that matches few tasks reads them from the trigram index: no statement of the view walks the tasks or a column', async () => {
    const clock = manualClock();
    const store = testStore(clock);
    const board = new SqliteBoard(store);
    for (let i = 0; i < 300; i++) {
      const { task } = createTask(store, { title: `task ${i}`, assignee: 'coder' });
      if (i % 3 === 0) completeTask(store, task.id, 'done');
    }
    const followed = store.db.prepare("SELECT id FROM tasks WHERE title = 'task 171'").pluck().get() as string;
    let counts: Record<string, number> = {};
    const statements = await statementsOf(store, async () => {
      const view = await board.windows.view({ statuses: BOARD_COLUMNS, cursors: { done: { id: followed, index: 0 }, ready: { id: followed, index: 0 } }, filter: 'task 17', perColumn: 20 });
      counts = view.counts;
    });
    // task 17 and task 170–179: 11, of which 171, 174 and 177 are done.
    expect(counts).toMatchObject({ ready: 8, done: 3 });
    const plans = statements.filter((sql) => /\bFROM tasks\b/.test(sql)).map((sql) => ({ sql, plan: planSteps(store, sql).join(' | ') }));
    const filtered = plans.filter(({ sql }) => sql.includes('json_each'));
    expect(filtered.length).toBeGreaterThanOrEqual(3); // the counts, a window, a position
    for (const { sql, plan } of filtered) {
      expect({ sql, plan }).toMatchObject({ plan: expect.stringMatching(/SEARCH t USING INTEGER PRIMARY KEY \(rowid=\?\)/) });
      expect({ sql, plan }).not.toMatchObject({ plan: expect.stringMatching(/SCAN t\b|USING (COVERING )?INDEX tasks_/) });
    }
  });
});
