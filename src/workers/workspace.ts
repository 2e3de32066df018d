import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { errorMessage } from '../errors.js';
import type { TaskRow } from '../core/types.js';

/** `<data dir>/workspaces` (the board's BoardRef.dataDir): the only folder kanban ever deletes anything in. */
export function workspacesRoot(dataDir: string): string {
  return join(dataDir, 'workspaces');
}

/** `<data dir>/workspaces/<id>`: where a task's scratch or worktree workspace is made, unless it records another path. */
export function defaultWorkspacePath(dataDir: string, taskId: string): string {
  return join(workspacesRoot(dataDir), taskId);
}

/**
 * Where a task's worker runs, created if needed. scratch: `<board dir>/workspaces/<id>` (or the
 * path recorded from an earlier run); dir: an existing directory; worktree: a git worktree of the
 * repository around the current directory, on branch `kanban/<id>`, reused by later runs.
 * Throws with a reason when it cannot be had.
 */
export function prepareWorkspace(task: TaskRow, dataDir: string, cwd = process.cwd()): string {
  const defaultPath = defaultWorkspacePath(dataDir, task.id);
  switch (task.workspace_kind) {
    case 'scratch': {
      const path = task.workspace_path ?? defaultPath;
      mkdirSync(path, { recursive: true });
      return path;
    }
    case 'dir': {
      const path = task.workspace_path;
      if (!path || !existsSync(path) || !statSync(path).isDirectory()) throw new Error(`workspace ${path ?? '(none)'} is not an existing directory`);
      return path;
    }
    case 'worktree': {
      const path = task.workspace_path ?? defaultPath;
      if (existsSync(join(path, '.git'))) return path;
      const git = (args: string[], where: string) => execFileSync('git', args, { cwd: where, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
      let repo: string;
      try {
        repo = git(['rev-parse', '--show-toplevel'], cwd);
      } catch {
        throw new Error(`a worktree workspace needs a git repository, and ${cwd} is not in one`);
      }
      const branch = `kanban/${task.id}`;
      const branchExists = (() => {
        try {
          git(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], repo);
          return true;
        } catch {
          return false;
        }
      })();
      mkdirSync(dirname(path), { recursive: true });
      try {
        git(branchExists ? ['worktree', 'add', path, branch] : ['worktree', 'add', '-b', branch, path], repo);
      } catch (err) {
        throw new Error(`git worktree add ${path} failed: ${errorMessage(err).split('\n').slice(-2).join(' ').trim()}`);
      }
      return path;
    }
  }
}

export type RemoveResult = { removed: true; path: string } | { removed: false; path: string; reason: string };

/**
 * Deletes a finished task's scratch workspace, but only when its real path (symlinks and `..`
 * resolved) is strictly inside the workspaces root: never the root itself, never anything else.
 */
export function removeScratchWorkspace(path: string, dataDir: string): RemoveResult {
  const root = workspacesRoot(dataDir);
  let realRoot: string;
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return { removed: false, path, reason: 'it does not exist' };
  }
  try {
    realRoot = realpathSync(root);
  } catch {
    return { removed: false, path, reason: `the workspaces root ${root} does not exist` };
  }
  const inside = relative(realRoot, real);
  if (inside === '' || isAbsolute(inside) || inside.split(sep)[0] === '..') {
    return { removed: false, path, reason: `${real} is not inside the workspaces root ${realRoot}` };
  }
  rmSync(real, { recursive: true, force: true });
  return { removed: true, path: real };
}
