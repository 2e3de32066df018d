import type { Config, Profile } from '../config.js';
import { fillArgv } from '../placeholders.js';

export type Placeholders = {
  task_id: string;
  run_id: string;
  workspace: string;
  board: string;
  prompt: string;
  prompt_file: string;
};

/** The profile that runs a task: its assignee's. */
export function profileFor(config: Config, assignee: string | null): { name: string; profile: Profile } | { error: string } {
  if (assignee === null) return { error: 'the task has no assignee' };
  const profile = config.profiles[assignee];
  return profile ? { name: assignee, profile } : { error: `no profile named '${assignee}' in the config` };
}

/**
 * The argv to run: the profile's command with `{task_id} {run_id} {workspace} {board} {prompt}
 * {prompt_file}` replaced inside each element, in one pass (a value is never expanded again). Never
 * a shell string: task data can only ever be (part of) one argument.
 */
export function resolveArgv(command: readonly string[], values: Placeholders): string[] {
  return fillArgv(command, values);
}
