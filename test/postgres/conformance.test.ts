import { beforeAll, describe, expect, inject } from 'vitest';
import { stateMachine } from '../conformance/state-machine.js';
import { conformance } from '../conformance/suite.js';
import { pgFactory } from './factory.js';

/** The board port's specs on PostgreSQL, unchanged from SQLite's (test/conformance/sqlite.test.ts). */
const server = inject('postgresUrl');
const skip = server === null && process.env.CI !== 'true';

describe.skipIf(skip)(`PostgreSQL conformance${skip ? ' (skipped: no PostgreSQL here)' : ''}`, () => {
  beforeAll(() => {
    expect(server, 'no PostgreSQL for the run: install postgresql (Debian) or set KANBAN_TEST_POSTGRES_URL').not.toBeNull();
  });
  const factory = pgFactory(server ?? 'postgresql://unavailable/');
  conformance(factory);
  stateMachine(factory, { numRuns: 25, maxCommands: 60 });
});
