import type { StatsFacts } from '../port/types.js';
import { notYet } from './stub.js';
import type { Tx } from './tx.js';

export async function readStatsFacts(_tx: Tx, _window: { now: number; since: number; slowest: number }): Promise<StatsFacts> { return notYet('readStatsFacts'); }
