// Builds the process container (native/contain.c) into dist/native/kanban-contain with the first C
// compiler that works: cc, gcc, then g++ (some CI machines have only g++). Never fails the build:
// without a compiler (or off Linux) it says so in one line, and workers run without a container.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'native', 'contain.c');
const target = join(root, 'dist', 'native', 'kanban-contain');
const flags = ['-O2', '-Wall', '-Wextra'];
const compilers = [
  ['cc', ['-std=gnu99', ...flags]],
  ['gcc', ['-std=gnu99', ...flags]],
  ['g++', ['-x', 'c++', ...flags]],
];

function build() {
  if (process.platform !== 'linux') {
    console.warn(`kanban: no process container on ${process.platform} (it needs Linux): processes workers leave behind are found by their environment only`);
    return;
  }
  mkdirSync(dirname(target), { recursive: true });
  // Built aside and renamed into place: a binary at the target is always a whole one.
  const partial = `${target}.${process.pid}.partial`;
  for (const [compiler, args] of compilers) {
    const result = spawnSync(compiler, [...args, '-o', partial, source], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
    if (result.status === 0) {
      chmodSync(partial, 0o755);
      renameSync(partial, target);
      return;
    }
    rmSync(partial, { force: true });
  }
  console.warn('kanban: no C compiler: workers run without a process container; processes they leave behind are found by their environment only');
}

build();
