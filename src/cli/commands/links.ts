import type { Command } from 'commander';
import { parseTaskId } from '../../ids.js';
import type { BoardStore } from '../../port/board.js';
import { globalOptions, withBoard } from '../context.js';
import { printTask } from '../output.js';

export function registerLinkCommands(program: Command): void {
  for (const [name, verb, description, transition] of [
    ['link', 'linked', 'PARENT must finish before CHILD runs; cycles are refused', (board: BoardStore, parent: string, child: string) => board.transitions.link(parent, child)],
    ['unlink', 'unlinked', 'remove a dependency', (board: BoardStore, parent: string, child: string) => board.transitions.unlink(parent, child)],
  ] as const) {
    program
      .command(name)
      .description(description)
      .argument('<parent>')
      .argument('<child>')
      .action(async (rawParent: string, rawChild: string, _opts: unknown, command: Command) => {
        const parent = parseTaskId(rawParent);
        const child = parseTaskId(rawChild);
        const options = globalOptions(command);
        await withBoard(options, async (board) => {
          await transition(board, parent, child);
          printTask(await board.tasks.get(child), verb, options.json ?? false);
        });
      });
  }
}
