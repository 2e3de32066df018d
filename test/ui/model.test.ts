import { describe, expect, it } from 'vitest';
import type { BoardStore } from '../../src/port/board.js';
import { SqliteBoard } from '../../src/store/sqlite-board.js';
import { createTask } from '../../src/store/tasks.js';
import { BoardModel } from '../../src/ui/model.js';
import { manualClock, testStore } from '../helpers/board.js';

/** The board, each view read taking `ms` (a large board walked for a filter), counting the reads. */
function slowViews(board: BoardStore, ms: number): { board: BoardStore; reads: () => number } {
  let reads = 0;
  const windows = {
    ...board.windows,
    counts: board.windows.counts.bind(board.windows),
    window: board.windows.window.bind(board.windows),
    position: board.windows.position.bind(board.windows),
    view: async (query: Parameters<BoardStore['windows']['view']>[0]) => {
      reads++;
      await new Promise((resolve) => setTimeout(resolve, ms));
      return board.windows.view(query);
    },
  };
  return { board: Object.assign(Object.create(board) as BoardStore, { windows }), reads: () => reads };
}

describe('the board model', () => {
  it('a filter typed a key at a time reads the board once under way and once more after, not once per key; the last key wins', async () => {
    const clock = manualClock();
    const store = testStore(clock);
    for (const title of ['parse the logs', 'parse the config', 'write the docs']) createTask(store, { title });
    const slow = slowViews(new SqliteBoard(store), 30);
    const model = await BoardModel.open(slow.board, clock, { perColumn: () => 5 });
    const before = slow.reads();
    const typed = 'parse the c';
    const query = { statuses: ['ready' as const], cursors: {}, perColumn: 5, drawer: null };
    for (let i = 1; i <= typed.length; i++) model.setQuery({ ...query, filter: typed.slice(0, i) });
    await model.idle();
    expect(slow.reads() - before).toBeLessThanOrEqual(2);
    const ready = model.snapshot().board.columns.find((c) => c.status === 'ready')!;
    expect(ready.cards.map((card) => card.title)).toEqual(['parse the config']);
  });
});
