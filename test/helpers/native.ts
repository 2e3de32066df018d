import { spawnSync } from 'node:child_process';

/**
 * Compiles a C shim into the shared object `out` with whichever compiler the machine has (CI
 * machines may have only g++), linking `links` (e.g. `-ldl`); null when none works. No test-runner
 * imports: the chaos harness uses it outside vitest.
 */
export function compileSharedObject(source: string, out: string, links: readonly string[] = []): string | null {
  const attempts: string[][] = [
    ['cc', '-shared', '-fPIC', '-O2', '-o', out, source, ...links],
    ['gcc', '-shared', '-fPIC', '-O2', '-o', out, source, ...links],
    ['g++', '-x', 'c++', '-shared', '-fPIC', '-O2', '-o', out, source, ...links],
  ];
  for (const [compiler, ...args] of attempts) {
    if (spawnSync(compiler!, args, { stdio: 'ignore' }).status === 0) return out;
  }
  return null;
}
