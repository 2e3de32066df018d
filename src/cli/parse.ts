import { isAbsolute } from 'node:path';
import { statSync } from 'node:fs';
import { InvalidInput } from '../errors.js';
import { STATUSES, isStatus, type Status, type WorkspaceKind } from '../core/types.js';

/** Commander collector for repeatable options (`--parent A --parent B`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function parseInteger(text: string, what: string): number {
  if (!/^[+-]?\d+$/.test(text.trim())) throw new InvalidInput(`invalid ${what} '${text}': expected a whole number`);
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new InvalidInput(`invalid ${what} '${text}': too large`);
  return value;
}

/** A whole number of at least 1 (`--limit`). */
export function parsePositiveInteger(text: string, what: string): number {
  const value = parseInteger(text, what);
  if (value < 1) throw new InvalidInput(`invalid ${what} '${text}': expected a whole number of at least 1`);
  return value;
}

/** Statuses given as repeated options and/or comma lists: `--status ready,running --status blocked`. */
export function parseStatuses(values: readonly string[]): Status[] {
  const statuses = values.flatMap((v) => v.split(',')).map((s) => s.trim().toLowerCase()).filter(Boolean);
  for (const status of statuses) {
    if (!isStatus(status)) throw new InvalidInput(`invalid status '${status}': use one of ${STATUSES.join(', ')}`);
  }
  return statuses as Status[];
}

export function parseChoice<T extends string>(text: string, choices: readonly T[], what: string): T {
  const value = text.trim().toLowerCase();
  if (!(choices as readonly string[]).includes(value)) throw new InvalidInput(`invalid ${what} '${text}': use one of ${choices.join(', ')}`);
  return value as T;
}

/** `scratch`, `dir:PATH` (an existing absolute directory), `worktree` or `worktree:PATH` (absolute). */
export function parseWorkspace(text: string): { kind: WorkspaceKind; path: string | null } {
  const [kind, ...rest] = text.split(':');
  const path = rest.length > 0 ? rest.join(':') : null;
  if (kind === 'scratch' && path === null) return { kind, path };
  if (kind === 'worktree' && (path === null || isAbsolute(path))) return { kind, path };
  if (kind === 'dir' && path !== null && isAbsolute(path)) {
    let isDirectory = false;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch {
      // reported below
    }
    if (!isDirectory) throw new InvalidInput(`invalid workspace '${text}': ${path} is not an existing directory`);
    return { kind, path };
  }
  throw new InvalidInput(`invalid workspace '${text}': use scratch, dir:/absolute/path, worktree or worktree:/absolute/path`);
}
