import type { Command } from 'commander';
import { BoardLocked, InvalidInput, KanbanError } from '../../errors.js';
import type { BoardStore } from '../../port/board.js';
import type { EventRow } from '../../core/types.js';
import { parseDuration, parseTime } from '../../time.js';
import { globalOptions, withBoard } from '../context.js';
import { untilInterrupted } from '../interrupt.js';
import { eventJson, formatEventLine } from '../event-text.js';
import { writeLine } from '../output.js';
import { parsePositiveInteger } from '../parse.js';

/** Without --since or --limit: this many, the latest. */
const DEFAULT_LAST = 50;
/** How often a follower looks for new events, on the connection it keeps open. */
const FOLLOW_POLL_MS = 300;
/** Events read per query while catching up. */
const FOLLOW_BATCH = 500;

export function registerEventsCommand(program: Command): void {
  program
    .command('events')
    .description(`the board's events, oldest first, one line each (default: the last ${DEFAULT_LAST})`)
    .option('-f, --follow', 'keep printing new events as they happen, until SIGINT or SIGTERM')
    .option('--since <when>', 'events since a duration ago (10m, 2h, "2 hours") or an ISO time (2026-12-01T09:00)')
    .option('-n, --limit <n>', `only the last N (default ${DEFAULT_LAST} without --since, all since with it)`)
    .addHelpText('after', '\n--json prints one JSON object per line: id task_id run_id kind payload created_at (epoch ms).')
    .action(async (opts: { follow?: boolean; since?: string; limit?: string }, command: Command) => {
      const options = globalOptions(command);
      const last = opts.limit !== undefined ? parsePositiveInteger(opts.limit, 'limit') : opts.since === undefined ? DEFAULT_LAST : undefined;
      const sinceMs = opts.since !== undefined ? parseSince(opts.since, Date.now()) : undefined;
      // SIGINT or SIGTERM stops a follow (exit 0), from before the backlog is printed (cli/interrupt.ts).
      await untilInterrupted(opts.follow === true, (interrupted) =>
        withBoard(
          options,
          async (board) => {
            const print = (event: EventRow) => writeLine(options.json ? eventJson(event) : formatEventLine(event, Date.now()));
            const { events, cursor } = await board.tasks.recentEvents({ ...(sinceMs !== undefined && { sinceMs }), ...(last !== undefined && { last }) });
            events.forEach(print);
            if (opts.follow) await follow(board, cursor, print, interrupted);
            else if (events.length === 0 && !options.json) writeLine('no events');
          },
          'read',
        ),
      );
    });
}

/** `10m`, `2 hours` (that long before `now`), or an ISO 8601 time. */
function parseSince(text: string, now: number): number {
  for (const parse of [(t: string) => now - parseDuration(t) * 1000, parseTime]) {
    try {
      return parse(text);
    } catch (err) {
      if (!(err instanceof KanbanError)) throw err;
    }
  }
  throw new InvalidInput(`invalid --since '${text}': use a duration (10m, 2h, 2 hours) or an ISO 8601 time (2026-12-01T09:00)`);
}

/**
 * Prints every event committed after `cursor`, polling the open board, until `interrupted` (then
 * resolves: exit 0). A board busy for a moment is tried again at the next poll; any other error ends
 * it with that error.
 */
function follow(board: BoardStore, cursor: number, print: (event: EventRow) => void, interrupted: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    let after = cursor;
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const poll = async () => {
      try {
        for (;;) {
          const events = await board.tasks.eventsAfter(after, FOLLOW_BATCH);
          if (stopped) return;
          events.forEach(print);
          if (events.length > 0) after = events.at(-1)!.id;
          if (events.length < FOLLOW_BATCH) break;
        }
      } catch (err) {
        if (!(err instanceof BoardLocked)) return finish(() => reject(err));
      }
      if (!stopped) timer = setTimeout(() => void poll(), FOLLOW_POLL_MS);
    };
    timer = setTimeout(() => void poll(), FOLLOW_POLL_MS);
    const finish = (end: () => void) => {
      stopped = true;
      clearTimeout(timer);
      interrupted.removeEventListener('abort', stop);
      end();
    };
    const stop = () => finish(resolve);
    if (interrupted.aborted) stop();
    else interrupted.addEventListener('abort', stop);
  });
}
