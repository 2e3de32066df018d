import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { isBoardUrl, resolveBoardPath } from '../../location.js';
import { shownLocation } from '../../port/board.js';
import { globalOptions, withBoard } from '../context.js';
import { formatTimestamp, formatWhen, printTable, writeJson, writeLine } from '../output.js';
import { systemClock } from '../../clock.js';
import { claimHost } from '../../core/run.js';
import { thisHost } from '../../host.js';
import { cleanLine } from '../../sanitize.js';

export function registerBoardCommands(program: Command): void {
  program
    .command('init')
    .description('create the board (it is also created on first use)')
    .action(async (_options, command: Command) => {
      const options = globalOptions(command);
      const location = resolveBoardPath(options);
      const fileExisted = isBoardUrl(location) ? null : existsSync(location);
      await withBoard(options, async (board) => {
        const { schemaVersion, storage, created } = await board.describe();
        const made = fileExisted === null ? created === true : !fileExisted;
        const where = shownLocation(board.ref);
        const report = { db: where, created: made, schema_version: schemaVersion, ...storage };
        if (options.json) writeJson(report);
        else writeLine(`${made ? 'created board at' : 'board already exists at'} ${where}`);
      }, 'check');
    });

  program
    .command('hosts')
    .description('the hosts that dispatch on the board: when each was last seen, its boot, its running tasks')
    .action(async (_options, command: Command) => {
      const options = globalOptions(command);
      await withBoard(
        options,
        async (board) => {
          const [hosts, running, now] = await Promise.all([board.hosts.list(), board.dispatch.runningTasks(), board.now(systemClock)]);
          const here = thisHost().id;
          const runs = new Map<string, number>();
          for (const task of running) if (task.claim_lock) runs.set(claimHost(task.claim_lock), (runs.get(claimHost(task.claim_lock)) ?? 0) + 1);
          const rows = hosts.map((h) => ({ ...h, this_host: h.id === here, running: runs.get(h.id) ?? 0 }));
          if (options.json) return writeJson(rows);
          if (rows.length === 0) return writeLine('no host has dispatched on this board yet');
          printTable(
            ['', 'HOST', 'NAME', 'RUNNING', 'LAST SEEN', 'BOOTED', 'BOOT ID'],
            rows.map((h) => [h.this_host ? '*' : '', h.id, cleanLine(h.name), String(h.running), formatWhen(h.last_seen_at, now), formatTimestamp(h.booted_at), h.boot_id.slice(0, 8)]),
            [3],
          );
        },
        'read',
      );
    });
}

