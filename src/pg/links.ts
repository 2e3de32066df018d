import type { TaskRow } from '../core/types.js';
import { notYet } from './stub.js';
import type { Tx } from './tx.js';

export async function linkTasks(_tx: Tx, _parentId: string, _childId: string): Promise<TaskRow> { return notYet('linkTasks'); }
export async function unlinkTasks(_tx: Tx, _parentId: string, _childId: string): Promise<TaskRow> { return notYet('unlinkTasks'); }
/** Promotes a todo task to ready when none of its parents is unfinished (event `promoted`); whether it did. */
export async function promoteIfUnblocked(_tx: Tx, _child: TaskRow, _source: Record<string, unknown>): Promise<boolean> { return notYet('promoteIfUnblocked'); }
/** After a parent finishes: its todo children whose parents are all finished go ready; their ids. */
export async function promoteChildrenOf(_tx: Tx, _parentId: string): Promise<string[]> { return notYet('promoteChildrenOf'); }
