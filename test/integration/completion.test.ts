import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { tempDir } from '../helpers/board.js';
import { kanban } from '../helpers/cli.js';

/** The script `kanban completion SHELL` prints, saved to a file. */
function script(shell: string): string {
  const result = kanban(['completion', shell]);
  expect(result.code, result.stderr).toBe(0);
  expect(result.stderr).toBe('');
  const path = join(tempDir(), `kanban.${shell}`);
  writeFileSync(path, result.stdout);
  return path;
}

function installed(program: string): boolean {
  return spawnSync(program, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Runs a fixed shell program with arguments (never a string built from them): `$1`… (fish: `$argv`). */
function shell(program: string, code: string, args: readonly string[]): { code: number | null; stdout: string; stderr: string } {
  const argv = program === 'fish' ? args : [program, ...args]; // bash and zsh take $0 first
  const result = spawnSync(program, ['-c', code, ...argv], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tempDir() } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Sources the bash script, fills COMP_WORDS / COMP_CWORD with the words typed, calls the function, prints COMPREPLY. */
const BASH_COMPLETE = 'source "$1" || exit 9; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _kanban; printf "%s\\n" "${COMPREPLY[@]}"';

function bashCompletes(path: string, ...words: string[]): string[] {
  const result = shell('bash', BASH_COMPLETE, [path, ...words]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.stdout.split('\n').filter(Boolean);
}

const topLevel = () => buildProgram().commands.map((c) => c.name());

describe('kanban completion bash', () => {
  it('registers a completion for kanban in a real bash', () => {
    const result = shell('bash', 'source "$1" && complete -p kanban', [script('bash')]);
    expect(result).toMatchObject({ code: 0, stdout: 'complete -F _kanban kanban\n', stderr: '' });
  });

  it('completes commands, subcommands and options, skipping option values', () => {
    const path = script('bash');
    expect(bashCompletes(path, 'kanban', 'cre')).toEqual(['create']);
    expect(bashCompletes(path, 'kanban', 'list', '--st')).toEqual(['--status']);
    expect(bashCompletes(path, 'kanban', 'worker', 'hea')).toEqual(['heartbeat']);
    expect(bashCompletes(path, 'kanban', '--db', '/tmp/board.db', 'sta')).toEqual(['stats']);
    expect(bashCompletes(path, 'kanban', 'create', '--body', 'text', '--pri')).toEqual(['--priority']);
    expect(bashCompletes(path, 'kanban', 'list', '--bo')).toEqual(['--board']); // a global option after the command
    expect(bashCompletes(path, 'kanban', 'completion', '')).toEqual(['bash', 'zsh', 'fish']);
  });

  it('offers every command of the program tree, so it cannot drift', () => {
    expect(bashCompletes(script('bash'), 'kanban', '')).toEqual([...topLevel(), 'help']);
  });
});

describe('kanban completion zsh and fish', () => {
  it.skipIf(!installed('zsh'))('zsh: the script parses (zsh -n) and offers the same words (skipped when zsh is not installed)', () => {
    const path = script('zsh');
    expect(spawnSync('zsh', ['-n', path], { encoding: 'utf8' })).toMatchObject({ status: 0, stderr: '' });
    // compdef and _describe are zsh's completion system's: stand-ins print what would be offered.
    const offer = 'compdef() { :; }; source "$1"; shift; _describe() { print -l -- "${(@P)4}" }; words=("$@"); CURRENT=$#; _kanban';
    expect(shell('zsh', offer, [path, 'kanban', 'cre']).stdout).toContain('create:new task');
    expect(shell('zsh', offer, [path, 'kanban', 'list', '--st']).stdout).toContain('--status:only these statuses');
  });

  it.skipIf(!installed('fish'))('fish: the script parses (fish --no-execute) and completes (skipped when fish is not installed)', () => {
    const path = script('fish');
    expect(spawnSync('fish', ['--no-execute', path], { encoding: 'utf8' })).toMatchObject({ status: 0, stderr: '' });
    const complete = (line: string) => shell('fish', 'source $argv[1]; complete -C $argv[2]', [path, line]).stdout.split('\n').map((l) => l.split('\t')[0]);
    expect(complete('kanban cre')).toContain('create');
    expect(complete('kanban list --st')).toContain('--status');
    expect(complete('kanban worker hea')).toContain('heartbeat');
  });
});

describe('kanban completion: bad input', () => {
  it('an unknown shell is exit 2 with one line, and prints no script', () => {
    const result = kanban(['completion', 'tcsh']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^kanban: .*'tcsh'.*bash, zsh, fish\.?\n$/);
  });

  it('no shell is exit 2', () => {
    const result = kanban(['completion']);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });
});
