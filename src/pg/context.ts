import type { TaskContext } from '../port/types.js';
import { notYet } from './stub.js';
import type { Tx } from './tx.js';

export async function loadTaskContext(_tx: Tx, _taskId: string): Promise<TaskContext> { return notYet('loadTaskContext'); }
