import type { RunIdentity } from '../core/run.js';
import type { Task, TaskRow } from '../core/types.js';
import type { PromoteOptions } from '../port/types.js';
import { notYet } from './stub.js';
import type { Tx } from './tx.js';

export async function blockTask(_tx: Tx, _id: string, _reason: string | null = null): Promise<Task> { return notYet('blockTask'); }
export async function stopAndBlock(_tx: Tx, _id: string, _reason: string | null = null): Promise<{ task: TaskRow; stopped: RunIdentity | null }> { return notYet('stopAndBlock'); }
export async function unblockTask(_tx: Tx, _id: string): Promise<Task> { return notYet('unblockTask'); }
export async function scheduleTask(_tx: Tx, _id: string, _until: number, _reason: string | null = null): Promise<Task> { return notYet('scheduleTask'); }
export async function promoteTask(_tx: Tx, _id: string, _options: PromoteOptions = {}): Promise<Task> { return notYet('promoteTask'); }
export async function completeTask(_tx: Tx, _id: string, _summary: string | null = null): Promise<Task> { return notYet('completeTask'); }
export async function markDone(_tx: Tx, _before: TaskRow, _summary: string | null, _source: 'user' | 'worker' | 'clean_exit'): Promise<TaskRow> { return notYet('markDone'); }
export async function sendToReview(_tx: Tx, _before: TaskRow, _summary: string | null, _source: 'worker' | 'clean_exit'): Promise<TaskRow> { return notYet('sendToReview'); }
export async function approveTask(_tx: Tx, _id: string): Promise<Task> { return notYet('approveTask'); }
export async function requestChanges(_tx: Tx, _id: string, _feedback: string): Promise<Task> { return notYet('requestChanges'); }
export async function reopenTask(_tx: Tx, _id: string): Promise<Task> { return notYet('reopenTask'); }
export async function archiveTask(_tx: Tx, _id: string): Promise<Task> { return notYet('archiveTask'); }
