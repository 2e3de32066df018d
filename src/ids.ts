import { randomBytes } from 'node:crypto';
import { InvalidInput } from './errors.js';

const TASK_ID = /^t_[0-9a-f]{8}$/;

export function newTaskId(): string {
  return `t_${randomBytes(4).toString('hex')}`;
}

/** Validates a task id typed by a person or a script (case-insensitive), returning its canonical form. */
export function parseTaskId(text: string): string {
  const id = text.trim().toLowerCase();
  if (!TASK_ID.test(id)) {
    throw new InvalidInput(`invalid task id '${text}': expected t_ and 8 hex characters, like t_1a2b3c4d`);
  }
  return id;
}
