import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * The files that take longest start first: left to the default order (largest file first), the
 * chaos run, a small file, started last and ran alone for a minute and a half.
 */
const LONGEST_FIRST = ['test/chaos/chaos', 'test/integration/dispatcher.test.ts', 'test/fuzz/', 'test/chaos/multi-host', 'test/postgres/scenarios', 'test/integration/cli.test.ts'];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification) => {
      const index = LONGEST_FIRST.findIndex((path) => file.moduleId.includes(path));
      return index === -1 ? LONGEST_FIRST.length : index;
    };
    return [...(await super.sort(files))].sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // One throwaway PostgreSQL for the run (the PostgreSQL board's tests make a database each on it).
    globalSetup: ['test/postgres/global-setup.ts'],
    setupFiles: ['test/setup/blocked-loop.ts'],
    pool: 'forks',
    // Most test files wait on real processes and timers more than they compute: three at once on two
    // cores (vitest's default there is one). Every test is written to pass on a loaded machine.
    poolOptions: { forks: { maxForks: 3, minForks: 1 } },
    sequence: { sequencer: LongestFirst },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
  },
});
