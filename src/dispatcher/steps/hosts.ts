import { claimHost, identityOf } from '../../core/run.js';
import { Refused } from '../../errors.js';
import { UNKNOWN_BOOT } from '../../host.js';
import type { TickAction, TickContext } from '../context.js';
import { stopClosedRun } from './leases.js';

/**
 * This host says it is alive (the board's `hosts`, in the board's time). When its boot changed since
 * the board last saw it, the machine restarted and every process of its runs died with it: those
 * runs are taken back at once (`reclaimed`, not counted: not the task's doing) instead of waiting
 * for their leases. Only the host itself can tell: another host's silence alone never takes back a
 * run (its leases do, when they run out).
 */
export async function hostsStep(ctx: TickContext): Promise<TickAction[]> {
  if (ctx.dryRun) return [];
  const host = ctx.machine;
  const { previousBootId } = await ctx.board.hosts.seen({ id: ctx.host, name: host.name, bootId: host.bootId });
  if (previousBootId === null || previousBootId === host.bootId || previousBootId === UNKNOWN_BOOT || host.bootId === UNKNOWN_BOOT) return [];
  const actions: TickAction[] = [];
  for (const task of await ctx.board.dispatch.runningTasks()) {
    const identity = identityOf(task);
    if (!identity || claimHost(identity.claimLock) !== ctx.host) continue;
    const detail = `its host ${host.name} restarted`;
    try {
      await ctx.board.lease.release(identity, { outcome: 'reclaimed', payload: { detail, previous_boot_id: previousBootId, boot_id: host.bootId } });
    } catch (err) {
      if (err instanceof Refused) continue; // it ended meanwhile
      throw err;
    }
    await stopClosedRun(ctx, identity); // a process that somehow survived (a pid namespace kept across a "restart")
    actions.push({ step: 'hosts', action: 'reclaimed', task_id: task.id, run_id: identity.runId, detail });
  }
  return actions;
}
