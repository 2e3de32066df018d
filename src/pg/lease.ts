import type { FailurePolicy } from '../core/breaker.js';
import type { RunIdentity } from '../core/run.js';
import type { TaskRow } from '../core/types.js';
import type { ClaimCaps, ClaimResult, CreateInput, CreateResult, ExitRecord, HeartbeatSource, Release, WorkerExit } from '../port/types.js';
import { notYet } from './stub.js';
import type { Tx } from './tx.js';

export async function claimTask(_tx: Tx, _taskId: string, _options: { profile: string | null; leaseMs: number; caps?: ClaimCaps }): Promise<ClaimResult> { return notYet('claimTask'); }
export async function checkOwnership(_tx: Tx, _identity: RunIdentity): Promise<TaskRow> { return notYet('checkOwnership'); }
export async function heartbeat(_tx: Tx, _identity: RunIdentity, _options: { note?: string | null; source?: HeartbeatSource } = {}): Promise<TaskRow> { return notYet('heartbeat'); }
export async function attachSupervisor(_tx: Tx, _identity: RunIdentity, _supervisorPid: number): Promise<void> { return notYet('attachSupervisor'); }
export async function recordSpawn(_tx: Tx, _identity: RunIdentity, _spawn: { workerPid: number; argv: readonly string[]; workspace: string }): Promise<void> { return notYet('recordSpawn'); }
export async function completeRun(_tx: Tx, _identity: RunIdentity, _summary: string | null = null): Promise<TaskRow> { return notYet('completeRun'); }
export async function blockRun(_tx: Tx, _identity: RunIdentity, _reason: string): Promise<TaskRow> { return notYet('blockRun'); }
export async function reviewRun(_tx: Tx, _identity: RunIdentity, _summary: string | null = null): Promise<TaskRow> { return notYet('reviewRun'); }
export async function createFromRun(_tx: Tx, _identity: RunIdentity, _input: CreateInput): Promise<CreateResult> { return notYet('createFromRun'); }
export async function commentFromRun(_tx: Tx, _identity: RunIdentity, _text: string): Promise<void> { return notYet('commentFromRun'); }
export async function recordExit(_tx: Tx, _identity: RunIdentity, _exit: WorkerExit): Promise<ExitRecord> { return notYet('recordExit'); }
export async function recordFailedRun(_tx: Tx, _identity: RunIdentity, _outcome: 'crashed' | 'spawn_failed', _error: string, _failures: FailurePolicy, _uncounted?: { retryInMs: number }): Promise<TaskRow> { return notYet('recordFailedRun'); }
export async function releaseRun(_tx: Tx, _identity: RunIdentity, _release: Release): Promise<TaskRow> { return notYet('releaseRun'); }
export async function extendClaim(_tx: Tx, _identity: RunIdentity, _expectedClaimExpires: number | null, _payload: Record<string, unknown>): Promise<TaskRow> { return notYet('extendClaim'); }
