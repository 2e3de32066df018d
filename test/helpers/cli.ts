import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { cleanEnv } from './processes.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const KANBAN_BIN = fileURLToPath(new URL('../../bin/kanban.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** How long one CLI command in a test may take. */
const CLI_TIMEOUT_MS = 45_000;

/** Runs the built CLI as a real process. The environment is clean of the caller's KANBAN_* variables. */
export function kanban(args: readonly string[], env: Record<string, string> = {}): CliResult {
  // Bounded: a command that hangs fails its test instead of stalling the test worker (and vitest's RPC with it).
  const result = spawnSync(process.execPath, [KANBAN_BIN, ...args], { env: { ...cleanEnv(), ...env }, encoding: 'utf8', timeout: CLI_TIMEOUT_MS, killSignal: 'SIGKILL' });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr + (result.error ? `\n(kanban ${args.join(' ')}: ${result.error.message})` : '') };
}

/** Runs the CLI on `db` and parses its JSON output, failing the test if the command failed. */
export function kanbanJson<T = any>(db: string, args: readonly string[], env: Record<string, string> = {}): T {
  const result = kanban(['--db', db, ...args, '--json'], env);
  if (result.code !== 0) throw new Error(`kanban ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

export function fileHash(path: string): string {
  return existsSync(path) ? createHash('sha256').update(readFileSync(path)).digest('hex') : 'missing';
}

/**
 * Asserts the contract for a failing command: the exit code, exactly one stderr line `kanban: …`
 * matching `message`, nothing on stdout, and the board file byte-for-byte as it was (no WAL left).
 */
export function expectFailure(db: string, args: readonly string[], code: number, message: RegExp, env: Record<string, string> = {}): CliResult {
  const result = expectFails(['--db', db, ...args], env, code, message, [db]);
  expect(existsSync(`${db}-wal`)).toBe(false);
  return result;
}

/** The contract for a failing command: its code, one `kanban: …` line, nothing on stdout, `files` as they were. */
export function expectFails(args: readonly string[], env: Record<string, string>, code: number, message: RegExp, files: string[] = []): CliResult {
  const before = files.map(fileHash);
  const result = kanban(args, env);
  expect(result.code, result.stderr).toBe(code);
  expect(result.stdout).toBe('');
  const lines = result.stderr.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^kanban: /);
  expect(lines[0]).toMatch(message);
  expect(files.map(fileHash)).toEqual(before);
  return result;
}

/** Runs the built CLI as a real process without blocking the test (a command that waits, such as `log --follow`). */
export function kanbanAsync(args: readonly string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [KANBAN_BIN, ...args], { env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
