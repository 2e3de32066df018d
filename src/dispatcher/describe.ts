import { cleanLine } from '../sanitize.js';
import type { TickAction, TickResult } from './context.js';

export function describeAction(action: TickAction): string {
  return `${action.action}${action.task_id ? ` ${action.task_id}` : ''}${action.detail ? ` (${cleanLine(action.detail)})` : ''}`;
}

/** What a tick did, in one line; empty when it did nothing (skips and guards are not doing). */
export function describeTick(result: TickResult): string {
  const done = result.actions.filter((a) => a.action !== 'skipped' && a.action !== 'guarded').map(describeAction);
  const failed = result.errors.map((e) => `${e.step} failed: ${cleanLine(e.error)}`);
  return [...done, ...failed].join('; ');
}
