import type { DiagnosticsConfig, Profile } from '../config.js';
import { startedLongAgo } from '../elapsed.js';
import { formatSpan, formatWhen } from '../time.js';
import { lastHeardAt } from '../core/health.js';
import type { BoardFacts, TaskFacts } from '../port/types.js';

export const SEVERITIES = ['critical', 'error', 'warning'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Finding {
  rule: string;
  severity: Severity;
  task_id: string;
  title: string;
  /** One line, with the numbers. */
  reason: string;
  /** The command that fixes it, and the board key that does the same. */
  fix: { command: string; key: string };
}

/**
 * Whether a finding asks something of a person. A task waiting on its parents is normal: it is
 * listed (the `D` list, `kanban diagnostics`) but neither counted as needing attention nor marked.
 */
export function needsPerson(finding: Pick<Finding, 'rule'>): boolean {
  return finding.rule !== 'dependency_wait';
}

/** Everything a rule may read besides the task: the clock, the thresholds, the profiles. */
export interface RuleContext {
  now: number;
  thresholds: DiagnosticsConfig;
  heartbeatMaxStaleMs: number;
  crashGraceMs: number;
  /** A lease this far past its end is expired for diagnostics (a dispatcher extends it within a tick or two). */
  leaseGraceMs: number;
  profiles: Record<string, Pick<Profile, 'max_in_progress'>>;
  defaultAssignee: string | null;
  runningByAssignee: Record<string, number>;
}

type Rule = (task: TaskFacts, ctx: RuleContext) => Finding | null;

const HOUR = 3_600_000;
const MINUTE = 60_000;

function finding(task: TaskFacts, rule: string, severity: Severity, reason: string, command: string, key: string): Finding {
  return { rule, severity, task_id: task.id, title: task.title, reason, fix: { command, key } };
}

const lastBlock = (task: TaskFacts) => task.block_events.findLast((e) => e.kind !== 'unblocked');
const lastHeard = (task: TaskFacts) => lastHeardAt({ last_heartbeat_at: task.running?.last_heartbeat_at ?? null, started_at: task.running?.started_at ?? task.running?.run?.started_at ?? null }) ?? 0;

/** Running without what running means: a claim lock, an open run, a worker pid (once past the crash grace). */
const ghostRunning: Rule = (task, ctx) => {
  const r = task.running;
  if (!r) return null;
  const missing = r.claim_lock === null ? 'claim lock' : r.current_run_id === null || r.run === null ? 'run' : r.run.status === 'ended' ? 'open run (its run is closed)' : null;
  const noPid = missing === null && r.worker_pid === null && startedLongAgo(ctx.now, r.started_at ?? ctx.now, ctx.crashGraceMs);
  if (missing === null && !noPid) return null;
  return finding(task, 'ghost_running', 'critical', `running without a ${missing ?? 'worker pid'}: nothing will ever finish it`, `kanban reclaim ${task.id}`, 'r');
};

/** The lease has run out (or the supervisor died) and nobody has taken the task back yet. */
const expiredLease: Rule = (task, ctx) => {
  const r = task.running;
  if (!r || ghostRunning(task, ctx)) return null;
  const expiredFor = r.claim_expires === null ? 0 : ctx.now - r.claim_expires;
  const supervisorDead = r.host_local && !r.supervisor_alive && startedLongAgo(ctx.now, r.run?.started_at ?? ctx.now, ctx.crashGraceMs);
  if (expiredFor <= ctx.leaseGraceMs && !supervisorDead) return null;
  const why = supervisorDead ? `its supervisor ${r.run?.supervisor_pid ?? '(never started)'} is gone` : `its lease expired ${formatSpan(expiredFor)} ago`;
  const heard = lastHeard(task);
  return finding(task, 'expired_lease', 'critical', `${why}; last heard from ${heard ? formatSpan(ctx.now - heard) : 'never'} ago, not reclaimed yet`, `kanban reclaim ${task.id}`, 'r');
};

/** Running but silent for over half of KANBAN_HEARTBEAT_MAX_STALE_SECONDS. */
const heartbeatStale: Rule = (task, ctx) => {
  if (!task.running || ghostRunning(task, ctx) || expiredLease(task, ctx)) return null;
  const silent = ctx.now - lastHeard(task);
  if (silent <= ctx.heartbeatMaxStaleMs / 2) return null;
  return finding(task, 'heartbeat_stale', 'warning', `no heartbeat or output for ${formatSpan(silent)} (reclaimed at ${formatSpan(ctx.heartbeatMaxStaleMs)})`, `kanban reclaim ${task.id}`, 'r');
};

/** Blocked by the circuit breaker: its last block is a `gave_up`. */
const breakerTripped: Rule = (task) => {
  const block = lastBlock(task);
  if (task.status !== 'blocked' || block?.kind !== 'gave_up') return null;
  const run = task.last_run;
  const last = run ? `; last run ${run.outcome ?? 'open'}${run.exit_code !== null ? ` exit ${run.exit_code}` : ''}${run.error ? `: ${run.error}` : ''}` : '';
  const limit = block.payload.limit !== undefined ? ` of ${String(block.payload.limit)}` : '';
  return finding(task, 'breaker_tripped', 'error', `circuit breaker blocked it after ${task.consecutive_failures} failures${limit}${last}`, `kanban unblock ${task.id}`, 'u');
};

/** Blocked a long time with nobody looking: no comment and no unblock since it was blocked. */
const stuckBlocked: Rule = (task, ctx) => {
  if (task.status !== 'blocked') return null;
  const since = lastBlock(task)?.created_at ?? task.updated_at;
  if (ctx.now - since <= ctx.thresholds.stuck_blocked_hours * HOUR) return null;
  if (task.last_comment_at !== null && task.last_comment_at >= since) return null;
  const why = task.status_reason ? ` (${task.status_reason})` : '';
  return finding(task, 'stuck_blocked', 'warning', `blocked for ${formatSpan(ctx.now - since)}${why} with no comment or unblock since`, `kanban unblock ${task.id}`, 'u');
};

/** Blocked and unblocked again and again: block→unblock cycles, counted over its events in order. */
const blockCycling: Rule = (task, ctx) => {
  const window = ctx.thresholds.block_cycle_window_hours * HOUR;
  let cycles = 0;
  let blocked = false;
  for (const event of task.block_events) {
    if (event.kind !== 'unblocked') blocked = true;
    else if (blocked) {
      blocked = false;
      if (ctx.now - event.created_at <= window) cycles++;
    }
  }
  if (cycles < ctx.thresholds.block_cycle_count) return null;
  return finding(task, 'block_cycling', 'error', `${cycles} block→unblock cycles in the last ${formatSpan(window)}: unblocking is not fixing it`, `kanban show ${task.id}`, 'Enter');
};

/** Ready for a long while and nothing can start it, saying why. */
const strandedReady: Rule = (task, ctx) => {
  if (task.status !== 'ready' || ctx.now - task.updated_at <= ctx.thresholds.stranded_ready_minutes * MINUTE || task.cooldown_until !== null) return null;
  const assignee = task.assignee ?? ctx.defaultAssignee;
  let why: string;
  if (assignee === null) why = 'it has no assignee and the config has no default_assignee';
  else if (!ctx.profiles[assignee]) why = `its assignee '${assignee}' has no profile in the config`;
  else {
    const cap = ctx.profiles[assignee]!.max_in_progress;
    if (cap === undefined || (ctx.runningByAssignee[assignee] ?? 0) < cap) return null;
    why = `profile ${assignee} is at its cap of ${cap} running`;
  }
  return finding(task, 'stranded_ready', 'warning', `ready for ${formatSpan(ctx.now - task.updated_at)} but ${why}`, `kanban edit ${task.id} --assignee PROFILE`, 'a');
};

/** Ready, but held back by a rate-limit cooldown: when it clears. */
const rateLimitedWaiting: Rule = (task, ctx) => {
  if (task.status !== 'ready' || task.cooldown_until === null || task.cooldown_until <= ctx.now) return null;
  return finding(task, 'rate_limited_waiting', 'warning', `rate limited: no respawn until ${formatWhen(task.cooldown_until, ctx.now)}`, 'kanban dispatch', 'd');
};

/** Waiting in todo on parents that are not finished, named. */
const dependencyWait: Rule = (task) => {
  if (task.status !== 'todo' || task.unfinished_parents.length === 0) return null;
  const parents = task.unfinished_parents.map((p) => `${p.id} (${p.status})`).join(', ');
  return finding(task, 'dependency_wait', 'warning', `waiting on ${parents}`, `kanban promote ${task.id} --force`, 'P');
};

export const RULES: Readonly<Record<string, Rule>> = {
  ghost_running: ghostRunning,
  expired_lease: expiredLease,
  heartbeat_stale: heartbeatStale,
  breaker_tripped: breakerTripped,
  block_cycling: blockCycling,
  stuck_blocked: stuckBlocked,
  stranded_ready: strandedReady,
  rate_limited_waiting: rateLimitedWaiting,
  dependency_wait: dependencyWait,
};

/** Every finding on the board, most severe first. A pure function of the facts and the context. */
export function diagnose(board: BoardFacts, ctx: Omit<RuleContext, 'runningByAssignee'>): Finding[] {
  const full = { ...ctx, runningByAssignee: board.runningByAssignee };
  const findings = board.tasks.flatMap((task) => Object.values(RULES).map((rule) => rule(task, full)).filter((f): f is Finding => f !== null));
  return findings.sort((a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) || a.task_id.localeCompare(b.task_id) || a.rule.localeCompare(b.rule));
}
