import { KanbanError, type ExitCodeValue } from '../errors.js';
import { importHidingCi } from './load.js';
import type { runTui as RunTui } from './run.js';

/**
 * `ui/run.js` as the CommonJS bundle (dist/bundle/cli.cjs) has it. The board's screen needs Ink and
 * React, which load only as ES modules (yoga's top-level await), so the CommonJS bundle does not hold
 * them: it imports the screen from the ES module bundle beside it (dist/bundle/run.js, the same
 * source built as ES modules), a copy of kanban of its own. Only paths and plain options cross, and
 * its errors come back as this copy's, with their exit codes. bin/kanban.js sends `kanban tui` to the
 * ES module bundle straight away; this is the way when its quick look at the command line missed it.
 */
export async function runTui(...args: Parameters<typeof RunTui>): Promise<void> {
  const screen = new URL('./run.js', import.meta.url).href;
  const { runTui: runScreen } = (await importHidingCi(() => import(screen))) as { runTui: typeof RunTui };
  try {
    await runScreen(...args);
  } catch (err) {
    throw relayed(err);
  }
}

/** An error of the other copy's kind, with its exit code. */
class Relayed extends KanbanError {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
  ) {
    super(message);
  }
}

function relayed(err: unknown): unknown {
  if (!(err instanceof Error) || err instanceof KanbanError) return err;
  const { exitCode } = err as Error & { exitCode?: unknown };
  if (typeof exitCode !== 'number') return err;
  const copy = new Relayed(err.message, exitCode as ExitCodeValue);
  copy.stack = err.stack;
  return copy;
}
