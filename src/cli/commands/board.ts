import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { resolveBoardPath } from '../../location.js';
import { globalOptions, withBoard } from '../context.js';
import { writeJson, writeLine } from '../output.js';

export function registerBoardCommands(program: Command): void {
  program
    .command('init')
    .description('create the board (it is also created on first use)')
    .action(async (_options, command: Command) => {
      const options = globalOptions(command);
      const existed = existsSync(resolveBoardPath(options));
      await withBoard(options, async (board) => {
        const { schemaVersion, storage } = await board.describe();
        const report = { db: board.ref.location, created: !existed, schema_version: schemaVersion, ...storage };
        if (options.json) writeJson(report);
        else writeLine(`${existed ? 'board already exists at' : 'created board at'} ${board.ref.location}`);
      });
    });
}
