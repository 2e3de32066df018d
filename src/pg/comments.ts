import type { CommentRow } from '../core/types.js';
import { notYet } from './stub.js';
import type { Tx } from './tx.js';

export async function commentsForTask(_tx: Tx, _taskId: string): Promise<CommentRow[]> { return notYet('commentsForTask'); }
export async function addComment(_tx: Tx, _taskId: string, _text: string): Promise<CommentRow> { return notYet('addComment'); }
