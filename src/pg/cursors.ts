import type { Take } from '../port/types.js';
import { notYet } from './stub.js';
import type { Tx } from './tx.js';

export async function takeEvents(_tx: Tx, _name: string, _kinds: readonly string[], _limit: number): Promise<Take> { return notYet('takeEvents'); }
