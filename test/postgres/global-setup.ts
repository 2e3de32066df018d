import type { TestProject } from 'vitest/node';
import { postgresUnavailable, startPostgres } from '../helpers/postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's throwaway PostgreSQL (null: none here; the PostgreSQL tests skip, or fail under CI=true). */
    postgresUrl: string | null;
  }
}

/**
 * One throwaway PostgreSQL for the whole run, started before the tests and stopped after them; each
 * PostgreSQL test makes its own database on it. KANBAN_TEST_POSTGRES=off starts none.
 */
export default function setup(project: TestProject): () => void {
  if (process.env.KANBAN_TEST_POSTGRES === 'off' || postgresUnavailable() !== null) {
    project.provide('postgresUrl', null);
    return () => {};
  }
  const server = startPostgres();
  project.provide('postgresUrl', server.url);
  return () => server.stop();
}
