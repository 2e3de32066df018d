// How a worker script talks to kanban: the real CLI, as an agent would call it.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/kanban.js', import.meta.url));

export function kanban(...args) {
  return execFileSync(process.execPath, [bin, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
