import type { BoardStore } from '../../src/port/board.js';

/**
 * The board with each view read taking `ms` more (a large board walked for a filter): awaited, or
 * `holding` the thread all that time, as better-sqlite3's synchronous reads do. `filters` lists
 * the filter of each view read, in order.
 */
export function slowViews(board: BoardStore, ms: number, how: 'awaited' | 'holding' = 'awaited'): { board: BoardStore; filters: string[] } {
  const filters: string[] = [];
  const windows = {
    ...board.windows,
    counts: board.windows.counts.bind(board.windows),
    window: board.windows.window.bind(board.windows),
    position: board.windows.position.bind(board.windows),
    view: async (query: Parameters<BoardStore['windows']['view']>[0]) => {
      filters.push(query.filter);
      if (how === 'awaited') await new Promise((resolve) => setTimeout(resolve, ms));
      else for (const until = performance.now() + ms; performance.now() < until; );
      return board.windows.view(query);
    },
  };
  return { board: Object.assign(Object.create(board) as BoardStore, { windows }), filters };
}
