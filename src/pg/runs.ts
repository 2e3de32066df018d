import type { RunRow } from '../core/types.js';
import { notYet } from './stub.js';
import type { Tx } from './tx.js';

export async function runsForTask(_tx: Tx, _taskId: string): Promise<RunRow[]> { return notYet('runsForTask'); }
export async function runById(_tx: Tx, _taskId: string, _runId: number): Promise<RunRow | undefined> { return notYet('runById'); }
