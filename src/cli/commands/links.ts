import type { Command } from 'commander';
import { parseTaskId } from '../../ids.js';
import { linkTasks, unlinkTasks } from '../../store/links.js';
import { toTask } from '../../store/tasks.js';
import { globalOptions, withStore } from '../context.js';
import { printTask } from '../output.js';

export function registerLinkCommands(program: Command): void {
  for (const [name, verb, description, transition] of [
    ['link', 'linked', 'PARENT must finish before CHILD runs; cycles are refused', linkTasks],
    ['unlink', 'unlinked', 'remove a dependency', unlinkTasks],
  ] as const) {
    program
      .command(name)
      .description(description)
      .argument('<parent>')
      .argument('<child>')
      .action((rawParent: string, rawChild: string, _opts: unknown, command: Command) => {
        const parent = parseTaskId(rawParent);
        const child = parseTaskId(rawChild);
        const options = globalOptions(command);
        withStore(options, (store) => printTask(toTask(store, transition(store, parent, child)), verb, options.json ?? false));
      });
  }
}
