/**
 * The event kinds a hook may run on: every kind in a task's story. Not `heartbeat` and
 * `claim_extended` (a running task writes them all the time) nor `hook_failed` (a hook's own
 * failure: a hook on it could feed itself).
 */
export const HOOK_EVENT_KINDS = [
  'created',
  'promoted',
  'promoted_manual',
  'demoted',
  'assigned',
  'edited',
  'commented',
  'linked',
  'unlinked',
  'follow_up',
  'claimed',
  'spawned',
  'reclaimed',
  'crashed',
  'hung',
  'rate_limited',
  'timed_out',
  'stale',
  'protocol_violation',
  'spawn_failed',
  'respawn_guarded',
  'worker_killed',
  'gave_up',
  'blocked',
  'unblocked',
  'scheduled',
  'review',
  'approved',
  'changes_requested',
  'completed',
  'reopened',
  'archived',
] as const;

export type HookEventKind = (typeof HOOK_EVENT_KINDS)[number];

/** The event a hook's failure leaves on the task. */
export const HOOK_FAILED = 'hook_failed';
