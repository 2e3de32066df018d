import type { TaskFacts } from '../store/diagnostics.js';
import { formatSpan } from '../time.js';

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

export interface Thresholds {
  stuckBlockedMs: number;
  cycleWindowMs: number;
  cycleCount: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  stuckBlockedMs: 24 * 3_600_000,
  cycleWindowMs: 24 * 3_600_000,
  cycleCount: 3,
};

type Rule = (task: TaskFacts, now: number, limits: Thresholds) => Finding | null;

function finding(task: TaskFacts, rule: string, severity: Severity, reason: string, fix: Finding['fix']): Finding {
  return { rule, severity, task_id: task.id, title: task.title, reason, fix };
}

const lastBlock = (task: TaskFacts) => task.block_events.findLast((e) => e.kind !== 'unblocked');

/** Blocked by the circuit breaker: its last block is a `gave_up`. */
const breakerTripped: Rule = (task) => {
  const block = lastBlock(task);
  if (task.status !== 'blocked' || block?.kind !== 'gave_up') return null;
  const run = task.last_run;
  const last = run ? `; last run ${run.outcome ?? 'open'}${run.exit_code !== null ? ` exit ${run.exit_code}` : ''}${run.error ? `: ${run.error}` : ''}` : '';
  const limit = block.payload.limit !== undefined ? ` of ${String(block.payload.limit)}` : '';
  return finding(task, 'breaker_tripped', 'error', `circuit breaker blocked it after ${task.consecutive_failures} failures${limit}${last}`, {
    command: `kanban unblock ${task.id}`,
    key: 'u',
  });
};

/** Blocked for a long time with nobody looking: no comment and no unblock since it was blocked. */
const stuckBlocked: Rule = (task, now, limits) => {
  if (task.status !== 'blocked') return null;
  const since = lastBlock(task)?.created_at ?? task.updated_at;
  if (now - since <= limits.stuckBlockedMs) return null;
  if (task.last_comment_at !== null && task.last_comment_at >= since) return null;
  const why = task.status_reason ? ` (${task.status_reason})` : '';
  return finding(task, 'stuck_blocked', 'warning', `blocked for ${formatSpan(now - since)}${why} with no comment or unblock since`, {
    command: `kanban unblock ${task.id}`,
    key: 'u',
  });
};

/** Blocked and unblocked again and again: block→unblock cycles, counted over its events in order. */
const blockCycling: Rule = (task, now, limits) => {
  let cycles = 0;
  let blocked = false;
  for (const event of task.block_events) {
    if (event.kind !== 'unblocked') blocked = true;
    else if (blocked) {
      blocked = false;
      if (now - event.created_at <= limits.cycleWindowMs) cycles++;
    }
  }
  if (cycles < limits.cycleCount) return null;
  return finding(task, 'block_cycling', 'error', `${cycles} block→unblock cycles in the last ${formatSpan(limits.cycleWindowMs)}: unblocking is not fixing it`, {
    command: `kanban show ${task.id}`,
    key: 'Enter',
  });
};

/** Waiting in todo on parents that are not finished, named. */
const dependencyWait: Rule = (task) => {
  if (task.status !== 'todo' || task.unfinished_parents.length === 0) return null;
  const parents = task.unfinished_parents.map((p) => `${p.id} (${p.status})`).join(', ');
  return finding(task, 'dependency_wait', 'warning', `waiting on ${parents}`, { command: `kanban promote ${task.id} --force`, key: 'P' });
};

const RULES: Rule[] = [breakerTripped, stuckBlocked, blockCycling, dependencyWait];

/** Every finding on the board, most severe first. A pure function of the facts and the clock. */
export function diagnose(tasks: readonly TaskFacts[], now: number, limits: Thresholds = DEFAULT_THRESHOLDS): Finding[] {
  const findings = tasks.flatMap((task) => RULES.map((rule) => rule(task, now, limits)).filter((f): f is Finding => f !== null));
  return findings.sort((a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) || a.task_id.localeCompare(b.task_id));
}
