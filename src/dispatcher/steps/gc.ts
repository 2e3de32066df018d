import { describeGc, gcPolicyOf } from '../../gc.js';
import type { TickAction, TickContext } from '../context.js';

/**
 * Retention on the config's `gc:` schedule (long-running dispatchers only, never a dry run): a slice
 * of the pass under way each tick; once a pass that removed or archived something ends, one action
 * saying what.
 */
export async function gcStep(ctx: TickContext): Promise<TickAction[]> {
  const gc = ctx.config.gc;
  if (ctx.dryRun || ctx.gc === null || gc === undefined) return [];
  const tally = await ctx.gc.tick(ctx.board, gcPolicyOf(gc), gc.every * 1000, ctx.now);
  if (tally === null || (tally.tasks === 0 && tally.archivedDone === 0)) return [];
  return [{ step: 'gc', action: 'collected', task_id: '', detail: describeGc(tally) }];
}
