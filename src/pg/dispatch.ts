import type { RunRow, TaskRow } from '../core/types.js';
import { notYet } from './stub.js';
import type { Tx } from './tx.js';

export async function runningTasks(_tx: Tx): Promise<TaskRow[]> { return notYet('runningTasks'); }
export async function runningCounts(_tx: Tx): Promise<{ total: number; byAssignee: Map<string, number> }> { return notYet('runningCounts'); }
export async function openRuns(_tx: Tx): Promise<RunRow[]> { return notYet('openRuns'); }
export async function endedRunsWithWorkers(_tx: Tx, _from: number, _to: number): Promise<RunRow[]> { return notYet('endedRunsWithWorkers'); }
export async function dueSchedules(_tx: Tx, _now: number): Promise<TaskRow[]> { return notYet('dueSchedules'); }
export async function promotableTodos(_tx: Tx): Promise<TaskRow[]> { return notYet('promotableTodos'); }
export async function recoverableBlocked(_tx: Tx, _boardLimit: number, _taskId?: string): Promise<TaskRow[]> { return notYet('recoverableBlocked'); }
export async function readyQueue(_tx: Tx, _limit: number): Promise<TaskRow[]> { return notYet('readyQueue'); }
export async function lastRun(_tx: Tx, _taskId: string): Promise<RunRow | undefined> { return notYet('lastRun'); }
export async function cooldownOf(_tx: Tx, _runId: number): Promise<{ setAt: number; until: number } | null> { return notYet('cooldownOf'); }
export async function noteRespawnGuarded(_tx: Tx, _taskId: string, _runId: number, _payload: Record<string, unknown>): Promise<boolean> { return notYet('noteRespawnGuarded'); }
export async function promoteReady(_tx: Tx, _taskId: string): Promise<TaskRow> { return notYet('promoteReady'); }
export async function releaseSchedule(_tx: Tx, _taskId: string): Promise<TaskRow> { return notYet('releaseSchedule'); }
export async function recoverBlocked(_tx: Tx, _taskId: string, _boardLimit: number): Promise<TaskRow> { return notYet('recoverBlocked'); }
export async function reclaimGhost(_tx: Tx, _taskId: string): Promise<TaskRow> { return notYet('reclaimGhost'); }
export async function assignDefault(_tx: Tx, _taskId: string, _assignee: string): Promise<TaskRow> { return notYet('assignDefault'); }
