import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { isBoardUrl, resolveBoardPath } from '../../location.js';
import { shownLocation } from '../../port/board.js';
import { globalOptions, withBoard } from '../context.js';
import { writeJson, writeLine } from '../output.js';

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
      });
    });
}
