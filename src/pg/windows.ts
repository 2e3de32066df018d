import type { BoardView, Card, ColumnSort, Status, ViewQuery } from '../core/types.js';
import { notYet } from './stub.js';
import type { Tx } from './tx.js';

export async function columnCounts(_tx: Tx, _filter?: string): Promise<Record<Status, number>> { return notYet('columnCounts'); }
export async function columnWindow(_tx: Tx, _status: Status, _offset: number, _limit: number, _filter?: string, _sort?: ColumnSort): Promise<Card[]> { return notYet('columnWindow'); }
export async function positionInColumn(_tx: Tx, _status: Status, _taskId: string, _filter?: string, _sort?: ColumnSort): Promise<number | null> { return notYet('positionInColumn'); }
export async function boardView(_tx: Tx, _query: ViewQuery): Promise<BoardView> { return notYet('boardView'); }
