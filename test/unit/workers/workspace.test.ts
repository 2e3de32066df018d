import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveArgv } from '../../../src/workers/profiles.js';
import { removeScratchWorkspace, workspacesRoot } from '../../../src/workers/workspace.js';
import { tempDir } from '../../helpers/board.js';

describe('resolveArgv', () => {
  const values = { task_id: 't_1a2b3c4d', run_id: '7', workspace: '/w/t_1a2b3c4d', board: '/b/board.db', prompt: 'Do {task_id}', prompt_file: '/b/prompts/t_1a2b3c4d-r7.md' };

  it('replaces the placeholders inside each argument', () => {
    expect(resolveArgv(['agent', '--task={task_id}', '{workspace}/out', 'run {run_id} on {board}'], values)).toEqual([
      'agent',
      '--task=t_1a2b3c4d',
      '/w/t_1a2b3c4d/out',
      'run 7 on /b/board.db',
    ]);
  });

  it('leaves unknown braces alone and never splits an argument', () => {
    expect(resolveArgv(['{title}', '{task_id} && rm -rf /', '{{task_id}}'], values)).toEqual(['{title}', 't_1a2b3c4d && rm -rf /', '{t_1a2b3c4d}']);
  });

  it('puts the prompt and its file in one argument each, never expanding what the prompt says', () => {
    expect(resolveArgv(['agent', '{prompt}', '--file={prompt_file}'], values)).toEqual(['agent', 'Do {task_id}', '--file=/b/prompts/t_1a2b3c4d-r7.md']);
  });
});

describe('removeScratchWorkspace', () => {
  function board() {
    const dir = tempDir();
    const db = join(dir, 'board.db');
    const root = workspacesRoot(dirname(db));
    mkdirSync(root, { recursive: true });
    const outside = tempDir('kanban-outside-');
    writeFileSync(join(outside, 'keep'), 'x');
    return { db, root, outside };
  }

  it('removes a folder strictly inside the root, with everything in it', () => {
    const { db, root } = board();
    mkdirSync(join(root, 't_1', 'deep'), { recursive: true });
    writeFileSync(join(root, 't_1', 'deep', 'file'), 'x');
    expect(removeScratchWorkspace(join(root, 't_1'), dirname(db))).toMatchObject({ removed: true });
    expect(existsSync(join(root, 't_1'))).toBe(false);
    expect(existsSync(root)).toBe(true);
  });

  it('does not follow symlinks inside the workspace it removes', () => {
    const { db, root, outside } = board();
    mkdirSync(join(root, 't_1'));
    symlinkSync(outside, join(root, 't_1', 'link-out'));
    expect(removeScratchWorkspace(join(root, 't_1'), dirname(db)).removed).toBe(true);
    expect(existsSync(join(outside, 'keep'))).toBe(true);
  });

  it.each([
    ['the root itself', (root: string) => root],
    ['the root with a trailing slash', (root: string) => `${root}/`],
    ['the root by a dot path', (root: string) => `${root}/t_1/..`],
    ['outside, by ..', (root: string, outside: string) => `${root}/../../${outside.split('/').at(-1)}`],
    ['outside, by an absolute path', (_root: string, outside: string) => outside],
    ['a symlink in the root to outside', (root: string, outside: string) => {
      symlinkSync(outside, join(root, 'sneaky'));
      return join(root, 'sneaky');
    }],
    ['the root’s parent', (root: string) => join(root, '..')],
  ])('refuses %s', (_name, pick) => {
    const { db, root, outside } = board();
    mkdirSync(join(root, 't_1'), { recursive: true });
    const result = removeScratchWorkspace(pick(root, outside), dirname(db));
    expect(result.removed).toBe(false);
    expect(existsSync(join(outside, 'keep'))).toBe(true);
    expect(existsSync(join(root, 't_1'))).toBe(true);
  });

  it('a symlinked root: a folder inside its real target is removed, the target itself kept', () => {
    const dir = tempDir();
    const realRoot = tempDir('kanban-realroot-');
    symlinkSync(realRoot, join(dir, 'workspaces'));
    mkdirSync(join(realRoot, 't_1'));
    expect(removeScratchWorkspace(join(dir, 'workspaces', 't_1'), dir).removed).toBe(true);
    expect(existsSync(join(realRoot, 't_1'))).toBe(false);
    expect(existsSync(realRoot)).toBe(true);
  });

  it('says so when there is nothing to remove', () => {
    const { db, root } = board();
    expect(removeScratchWorkspace(join(root, 'gone'), dirname(db))).toMatchObject({ removed: false, reason: 'it does not exist' });
  });
});
