import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../../src/errors.js';
import { kanbanHome, resolveBoardPath, resolveConfigPath } from '../../src/location.js';

describe('board location', () => {
  it('defaults to ~/.local/share/kanban/board.db', () => {
    expect(resolveBoardPath({}, {})).toBe(join(homedir(), '.local', 'share', 'kanban', 'board.db'));
  });

  it('follows XDG_DATA_HOME, then KANBAN_HOME', () => {
    expect(kanbanHome({ XDG_DATA_HOME: '/x' })).toBe('/x/kanban');
    expect(kanbanHome({ XDG_DATA_HOME: '/x', KANBAN_HOME: '/k' })).toBe('/k');
  });

  it('treats an empty variable as unset', () => {
    expect(resolveBoardPath({}, { KANBAN_DB: '', KANBAN_BOARD: '', KANBAN_HOME: '/k' })).toBe('/k/board.db');
  });

  it('resolves a relative --db against the working directory', () => {
    expect(resolveBoardPath({ db: 'my.db' }, {})).toBe(resolve('my.db'));
  });

  it.each(['', 'UPPER', '-lead', 'a/b', '..', 'x'.repeat(65), 'sp ace'])('rejects the board name %j', (slug) => {
    expect(() => resolveBoardPath({ board: slug }, {})).toThrowError(InvalidInput);
  });

  it.each(['a', 'team-a', 'x_1', '9lives', 'x'.repeat(64)])('accepts the board name %j', (slug) => {
    expect(resolveBoardPath({ board: slug }, { KANBAN_HOME: '/k' })).toBe(`/k/boards/${slug}/board.db`);
  });

  it('finds the config by --config, KANBAN_CONFIG, then KANBAN_HOME', () => {
    expect(resolveConfigPath({}, { KANBAN_HOME: '/k' })).toBe('/k/config.yaml');
    expect(resolveConfigPath({}, { KANBAN_HOME: '/k', KANBAN_CONFIG: '/c.yaml' })).toBe('/c.yaml');
    expect(resolveConfigPath({ config: '/d.yaml' }, { KANBAN_CONFIG: '/c.yaml' })).toBe('/d.yaml');
  });
});
