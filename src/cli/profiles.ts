import { existsSync } from 'node:fs';
import { InvalidInput } from '../errors.js';
import { resolveConfigPath } from '../location.js';
import type { GlobalOptions } from './context.js';

/**
 * Assigning a task to a profile the config does not name is refused (exit 2) unless forced: the
 * dispatcher would never run it. With no config file at all there is nothing to check against (the
 * board may be dispatched from another machine, or the config not written yet): any name is taken.
 */
export interface Profiles {
  path: string;
  names: string[];
}

/** The config's profiles, or null when there is no config file. The config's code (zod, yaml) is loaded only here. */
export async function configuredProfiles(options: GlobalOptions): Promise<Profiles | null> {
  const path = resolveConfigPath(options);
  if (!existsSync(path)) return null;
  const { loadConfig } = await import('../config.js');
  return { path, names: Object.keys(loadConfig(path).profiles) };
}

/** Why `assignee` cannot be assigned under `profiles`, or null when it can. */
export function unknownProfile(profiles: Profiles | null, assignee: string | null | undefined): string | null {
  if (profiles === null || assignee == null || profiles.names.includes(assignee)) return null;
  const known = profiles.names.length > 0 ? `profiles: ${profiles.names.join(', ')}` : 'no profiles configured';
  return `no profile "${assignee}" in ${profiles.path} (${known}); --force assigns it anyway`;
}

/** create and edit: refuses an assignee no profile names, unless `force` (then the config is not even read). */
export async function checkAssignee(options: GlobalOptions, assignee: string | null | undefined, force: boolean): Promise<void> {
  if (force || assignee == null) return;
  const problem = unknownProfile(await configuredProfiles(options), assignee);
  if (problem !== null) throw new InvalidInput(problem);
}
