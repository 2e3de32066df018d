import type { BoardFacts, ProcessProbe } from '../port/types.js';
import { notYet } from './stub.js';
import type { Tx } from './tx.js';

export async function loadBoardFacts(_tx: Tx, _probe: ProcessProbe, _recentSince: number): Promise<BoardFacts> { return notYet('loadBoardFacts'); }
