import { errorMessage } from '../../errors.js';
import { HOOK_FAILED } from '../../hooks/kinds.js';
import { hookJob, hookName } from '../../hooks/job.js';
import { describeFailure, type HookRunner } from '../../hooks/runner.js';
import type { BoardStore } from '../../port/board.js';
import type { TickAction, TickContext } from '../context.js';

/** The board's cursor for hooks: the last event whose hooks some dispatcher took. */
export const HOOKS_CURSOR = 'hooks';
/** Events taken in one tick, at most. */
const TAKE_LIMIT = 200;
/**
 * An event older than this when taken runs no hook (reported): after hooks were left out of the
 * config for a while, putting them back does not replay what happened meanwhile.
 */
export const HOOK_MAX_AGE_MS = 3_600_000;

/**
 * The last step, so it never delays a claim: takes the events after the board's hooks cursor (one
 * write transaction: among several dispatchers, one takes each event) and queues the hooks they
 * match, to run in the background. At most once: an event taken by a dispatcher that dies before
 * its hooks run never runs them. Without hooks in the config the cursor is left alone. It also
 * reports the hooks that failed since the last tick, and notes each on its task (`hook_failed`).
 */
export async function hooksStep(ctx: TickContext): Promise<TickAction[]> {
  if (!ctx.hooks || ctx.dryRun) return [];
  // Taken first: should the board fail the take, the failures wait for the next tick, not lost with this one.
  const queued = ctx.config.hooks.length === 0 ? [] : await queueNewEvents(ctx, ctx.hooks);
  return [...(await settleHookFailures(ctx.board, ctx.hooks)), ...queued];
}

async function queueNewEvents(ctx: TickContext, runner: HookRunner): Promise<TickAction[]> {
  const hooks = ctx.config.hooks;
  const kinds = [...new Set(hooks.flatMap((hook) => hook.on))];
  const actions: TickAction[] = [];
  for (const taken of (await ctx.board.dispatch.takeEvents(HOOKS_CURSOR, kinds, TAKE_LIMIT)).events) {
    const { event } = taken;
    const age = ctx.now - event.created_at;
    for (const hook of hooks.filter((h) => (h.on as readonly string[]).includes(event.kind))) {
      const name = hookName(hook);
      const about = `hook "${name}" for ${event.task_id} ${event.kind}`;
      if (age > HOOK_MAX_AGE_MS) actions.push({ step: 'hooks', action: 'hook_skipped', task_id: event.task_id, detail: `${about}: the event is ${Math.round(age / 60_000)} minutes old` });
      else if (!runner.submit(hookJob(ctx.board.ref.location, hook, taken))) actions.push({ step: 'hooks', action: 'hook_dropped', task_id: event.task_id, detail: `${about}: dropped, too many hooks waiting` });
      else actions.push({ step: 'hooks', action: 'hook_queued', task_id: event.task_id, detail: `${name} on ${event.kind}` });
    }
  }
  return actions;
}

/** The hooks that failed since the last call: each noted on its task (`hook_failed`) and returned as an action. */
export async function settleHookFailures(board: BoardStore, runner: HookRunner): Promise<TickAction[]> {
  const actions: TickAction[] = [];
  for (const failure of runner.takeFailures()) {
    const { job } = failure;
    let detail = describeFailure(failure);
    try {
      // The hook's stderr stays out of the board: it is the hook's to write, and may say anything.
      await board.transitions.note(job.taskId, HOOK_FAILED, { hook: job.name, event_id: job.eventId, event_kind: job.kind, error: failure.error });
    } catch (err) {
      detail += `; not noted on the task: ${errorMessage(err)}`;
    }
    actions.push({ step: 'hooks', action: 'hook_failed', task_id: job.taskId, detail });
  }
  return actions;
}

/** A hook action a person should hear about (a hook that failed, was dropped or skipped), or null. */
export function hookProblem(action: TickAction): string | null {
  return action.step === 'hooks' && action.action !== 'hook_queued' ? (action.detail ?? action.action) : null;
}

/**
 * When a dispatcher stops: hooks still waiting are dropped, those running are waited for (at most
 * their timeout) and their failures noted. Returns what a person should hear.
 */
export async function stopHooks(board: BoardStore, runner: HookRunner): Promise<string[]> {
  const dropped = await runner.stop();
  const lines = (await settleHookFailures(board, runner)).map((action) => action.detail!);
  if (dropped > 0) lines.push(`${dropped} hook${dropped === 1 ? '' : 's'} still waiting when the dispatcher stopped did not run`);
  return lines;
}
