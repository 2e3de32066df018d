import { basename } from 'node:path';
import type { Hook } from '../config.js';
import { fillArgv } from '../placeholders.js';
import { RUN_CONFIG_VARIABLE } from '../workers/plan.js';
import type { HookJob } from './runner.js';
import type { TakenEvent } from '../port/types.js';

/**
 * A run's identity and what it was handed: never a hook's (a hook is no worker, and the reaper must
 * never take it for one of a run's processes).
 */
const NOT_FOR_HOOKS = ['KANBAN_RUN_ID', 'KANBAN_CLAIM_LOCK', 'KANBAN_WORKSPACE', RUN_CONFIG_VARIABLE];

/** A hook's name in reports: its program's base name. */
export function hookName(hook: Hook): string {
  return basename(hook.command[0]!);
}

/**
 * What `hook` runs for one event: its argv with `{task_id} {kind} {title} {event_id}` filled in,
 * `{"event": …, "task": …}` on stdin (the task as `kanban show --json` prints it; null once the task
 * is gone), the dispatcher's environment plus KANBAN_DB, KANBAN_TASK, KANBAN_EVENT (the kind) and
 * KANBAN_EVENT_ID. No profile's `env` ever reaches a hook.
 */
export function hookJob(dbPath: string, hook: Hook, { event, task }: TakenEvent): HookJob {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of NOT_FOR_HOOKS) delete env[name];
  Object.assign(env, { KANBAN_DB: dbPath, KANBAN_TASK: event.task_id, KANBAN_EVENT: event.kind, KANBAN_EVENT_ID: String(event.id) });
  const values = { task_id: event.task_id, kind: event.kind, title: task?.title ?? '', event_id: String(event.id) };
  return {
    name: hookName(hook),
    taskId: event.task_id,
    eventId: event.id,
    kind: event.kind,
    spawn: {
      argv: fillArgv(hook.command, values),
      stdin: `${JSON.stringify({ event, task })}\n`,
      env,
      timeoutMs: hook.timeout * 1000,
    },
  };
}
