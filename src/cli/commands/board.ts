import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { resolveBoardPath } from '../../location.js';
import { SCHEMA_VERSION } from '../../store/schema.js';
import { globalOptions, withStore } from '../context.js';
import { writeJson, writeLine } from '../output.js';

export function registerBoardCommands(program: Command): void {
  program
    .command('init')
    .description('create the board (it is also created on first use)')
    .action((_options, command: Command) => {
      const options = globalOptions(command);
      const existed = existsSync(resolveBoardPath(options));
      withStore(options, (store) => {
        const report = { db: store.path, created: !existed, schema_version: SCHEMA_VERSION, journal_mode: store.journalMode };
        if (options.json) writeJson(report);
        else writeLine(`${existed ? 'board already exists at' : 'created board at'} ${store.path}`);
      });
    });
}
