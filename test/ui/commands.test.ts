import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Killer } from '../../src/dispatcher/processes.js';
import { tickContext } from '../../src/dispatcher/tick.js';
import { SqliteBoard } from '../../src/store/sqlite-board.js';
import { STATUSES, type Status } from '../../src/core/types.js';
import { actions } from '../../src/ui/actions.js';
import { COMMANDS, keyTableMarkdown, type CommandId } from '../../src/ui/commands.js';
import { manualClock, taskIn, testStore } from '../helpers/board.js';
import { config, settings } from './mount.js';

describe('the command table', () => {
  it('is the README key table (npm run readme-keys writes it)', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const table = /<!-- keys:start -->\n([\s\S]*?)\n<!-- keys:end -->/.exec(readme)?.[1];
    expect(table, 'run npm run build && npm run readme-keys').toBe(keyTableMarkdown());
  });

  it('gives each key one command', () => {
    const keys = COMMANDS.flatMap((c) => c.keys);
    expect(new Set(keys).size).toBe(keys.length);
  });

  // The store is the judge of what is legal: each card command's statuses must be exactly those
  // from which its transition succeeds (assign is stricter on purpose: finished work is not reassigned).
  const transitions: Partial<Record<CommandId, (ctx: ReturnType<typeof tickContext>, id: string) => Promise<{ tone: string }>>> = {
    reclaim: (ctx, id) => actions.reclaim(ctx, id),
    unblock: (ctx, id) => actions.unblock(ctx, id),
    reopen: (ctx, id) => actions.reopen(ctx, id),
    promote: (ctx, id) => actions.promote(ctx, id, false),
    'force-promote': (ctx, id) => actions.promote(ctx, id, true),
    schedule: (ctx, id) => actions.schedule(ctx, id, '2h'),
    block: (ctx, id) => actions.block(ctx, id, 'why'),
    approve: (ctx, id) => actions.approve(ctx, id),
    'request-changes': (ctx, id) => actions.requestChanges(ctx, id, 'again'),
    complete: (ctx, id) => actions.complete(ctx, id),
    archive: (ctx, id) => actions.archive(ctx, id),
    comment: (ctx, id) => actions.comment(ctx, id, 'a note'),
  };
  it.each(Object.keys(transitions) as CommandId[])('%s applies to exactly the statuses the store allows it from', async (id) => {
    const spec = COMMANDS.find((c) => c.id === id)!;
    const allowed: Status[] = [];
    for (const status of STATUSES) {
      const clock = manualClock();
      const store = testStore(clock);
      const ctx = tickContext(new SqliteBoard(store), config, clock, { settings, killer: new Killer(0), isRunProcess: () => false });
      const task = taskIn(store, status);
      if ((await transitions[id]!(ctx, task)).tone === 'ok') allowed.push(status);
      store.close();
    }
    expect([...(spec.when ?? [])].sort()).toEqual(allowed.sort());
  });
});
