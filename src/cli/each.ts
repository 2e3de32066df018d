import { KanbanError, NotFound, Refused } from '../errors.js';
import { parseTaskId } from '../ids.js';
import type { Task } from '../core/types.js';
import { printTask, writeJson, writeLine } from './output.js';

/** Some of several ids failed; the others were done. main.ts prints each failure and exits with the first one's code. */
export class SomeFailed extends Error {
  constructor(readonly failures: KanbanError[]) {
    super(failures.map((f) => f.message).join('; '));
  }
}

export type EachResult = { id: string; ok: true; task: Task } | { id: string; ok: false; exit_code: number; error: string };

/**
 * Applies `action` to every id, each in its own transaction, so one refusal does not undo the others
 * (like `rm a b c`). Every id is checked for form first: a typo changes nothing at all. With one id the
 * output is that task; with several (or `alwaysReport`), `--json` prints one result per id.
 */
export async function actOnEach(
  rawIds: readonly string[],
  verb: string,
  json: boolean,
  action: (id: string) => Task | Promise<Task>,
  options: { alwaysReport?: boolean } = {},
): Promise<void> {
  const ids = rawIds.map(parseTaskId);
  if (ids.length === 1 && !options.alwaysReport) {
    printTask(await action(ids[0]!), verb, json);
    return;
  }
  const results: EachResult[] = [];
  const failures: KanbanError[] = [];
  for (const id of ids) {
    try {
      const task = await action(id);
      results.push({ id, ok: true, task });
      if (!json) printTask(task, verb, false);
    } catch (err) {
      if (!(err instanceof Refused || err instanceof NotFound)) throw err;
      failures.push(err);
      results.push({ id, ok: false, exit_code: err.exitCode, error: err.message });
    }
  }
  if (json) writeJson(results);
  else if (ids.length === 0) writeLine(`nothing to ${verb.replace(/ed$/, '')}`);
  if (failures.length > 0) throw new SomeFailed(failures);
}
