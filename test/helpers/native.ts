import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from './board.js';

/**
 * Compiles a test's C shim into a shared object with whichever compiler the machine has (CI machines
 * may have only g++); null when none works.
 */
export function compileSharedObject(source: string): string | null {
  const out = join(tempDir('kanban-native-'), 'shim.so');
  const attempts: string[][] = [
    ['cc', '-shared', '-fPIC', '-O2', '-o', out, source],
    ['gcc', '-shared', '-fPIC', '-O2', '-o', out, source],
    ['g++', '-x', 'c++', '-shared', '-fPIC', '-O2', '-o', out, source],
  ];
  for (const [compiler, ...args] of attempts) {
    if (spawnSync(compiler!, args, { stdio: 'ignore' }).status === 0) return out;
  }
  return null;
}
