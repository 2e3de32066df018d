import { describe, expect, it } from 'vitest';
import { SqliteBoard } from '../../src/store/sqlite-board.js';
import { createTask } from '../../src/store/tasks.js';
import { BoardModel } from '../../src/ui/model.js';
import { manualClock, testStore } from '../helpers/board.js';
import { slowViews } from '../helpers/slow-views.js';

/** A board of three ready tasks behind slowViews (its reads `ms` slower), and its clock. */
function threeTasks(ms: number, how: 'awaited' | 'holding' = 'awaited') {
  const clock = manualClock();
  const store = testStore(clock);
  for (const title of ['parse the logs', 'parse the config', 'write the docs']) createTask(store, { title });
  return { clock, ...slowViews(new SqliteBoard(store), ms, how) };
}

/** The READY column, five cards: a query to add a filter to. */
const READY = { statuses: ['ready' as const], cursors: {}, perColumn: 5, drawer: null };

describe('the board model', () => {
  it('a filter typed a key at a time reads the board once under way and once more after, not once per key; the last key wins', async () => {
    const { clock, ...slow } = threeTasks(30);
    const model = await BoardModel.open(slow.board, clock, { perColumn: () => 5 });
    const before = slow.filters.length;
    const typed = 'parse the c';
    for (let i = 1; i <= typed.length; i++) model.setQuery({ ...READY, filter: typed.slice(0, i) });
    await model.idle();
    expect(slow.filters.length - before).toBeLessThanOrEqual(2);
    const ready = model.snapshot().board.columns.find((c) => c.status === 'ready')!;
    expect(ready.cards.map((card) => card.title)).toEqual(['parse the config']);
  });

  it('on a board whose reads hold the thread, a filter typed a key per turn of the event loop is read once it pauses, not once per key', async () => {
    const { clock, ...slow } = threeTasks(100, 'holding');
    const model = await BoardModel.open(slow.board, clock, { perColumn: () => 5 });
    const typed = 'parse the c';
    slow.filters.length = 0;
    for (let i = 1; i <= typed.length; i++) {
      model.setQuery({ ...READY, filter: typed.slice(0, i) });
      await new Promise((resolve) => setImmediate(resolve)); // as the terminal delivers keys: each its own turn
    }
    await model.idle();
    // The first key is read at once (that read is what shows the board's reads are slow); the rest wait for the pause.
    expect(slow.filters).toEqual(['p', typed]);
    const ready = model.snapshot().board.columns.find((c) => c.status === 'ready')!;
    expect(ready.cards.map((card) => card.title)).toEqual(['parse the config']);
    model.stop();
  });

  it('on a board whose reads are quick, the filter stays live: every key is read', async () => {
    const { clock, ...quick } = threeTasks(0, 'holding');
    const model = await BoardModel.open(quick.board, clock, { perColumn: () => 5 });
    quick.filters.length = 0;
    for (const filter of ['w', 'wr', 'wri']) {
      model.setQuery({ ...READY, filter });
      await model.idle();
      expect(model.snapshot().board.columns.find((c) => c.status === 'ready')!.cards.map((card) => card.title)).toEqual(['write the docs']);
    }
    expect(quick.filters).toEqual(['w', 'wr', 'wri']);
    model.stop();
  });

  it('on a board of a million tasks, a filter is read once the typing pauses from its first key (a filter walks every task)', async () => {
    const { clock, ...quick } = threeTasks(0, 'holding');
    // The board as large as its counts say: a million done tasks, which a filtered read does not count
    // (it counts its matches, as a real board's does). Reads stay quick, so only the size decides.
    const view = quick.board.windows.view;
    quick.board.windows.view = async (query) => {
      const read = await view(query);
      return query.filter === '' ? { ...read, counts: { ...read.counts, done: 1_000_000 } } : read;
    };
    const model = await BoardModel.open(quick.board, clock, { perColumn: () => 5 });
    quick.filters.length = 0;
    for (const filter of ['w', 'wr', 'wri']) {
      model.setQuery({ ...READY, filter });
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(quick.filters).toEqual([]); // nothing read while the keys come
    await model.idle();
    expect(quick.filters).toEqual(['wri']);
    // The filtered snapshot counts 1 task, the board still holds a million: a key erased waits for the pause too.
    model.setQuery({ ...READY, filter: 'wr' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(quick.filters).toEqual(['wri']);
    await model.idle();
    expect(quick.filters).toEqual(['wri', 'wr']);
    model.stop();
  });
});
