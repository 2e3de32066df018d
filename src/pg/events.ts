import type { EventRow } from '../core/types.js';
import type { RecentEvents } from '../port/types.js';
import { notYet } from './stub.js';
import type { Tx } from './tx.js';

export async function eventsForTask(_tx: Tx, _taskId: string): Promise<EventRow[]> { return notYet('eventsForTask'); }
export async function recentEvents(_tx: Tx, _query: RecentEvents): Promise<{ events: EventRow[]; cursor: number }> { return notYet('recentEvents'); }
export async function eventsAfter(_tx: Tx, _afterId: number, _limit: number): Promise<EventRow[]> { return notYet('eventsAfter'); }
export async function recordEvent(_tx: Tx, _taskId: string, _kind: string, _payload: Record<string, unknown> = {}): Promise<void> { return notYet('recordEvent'); }
