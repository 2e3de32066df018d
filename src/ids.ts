import { randomHex } from './random.js';
import { InvalidInput } from './errors.js';

/** A task id as kanban writes it: `t_` and 8 lowercase hex characters (the schemas check the same). */
export const TASK_ID = /^t_[0-9a-f]{8}$/;

/** Whether `text` is a task id as kanban writes it (`t_` and 8 lowercase hex characters). */
export function isTaskId(text: string): boolean {
  return TASK_ID.test(text);
}

export function newTaskId(): string {
  return `t_${randomHex(4)}`;
}

/** Validates a task id typed by a person or a script (case-insensitive), returning its canonical form. */
export function parseTaskId(text: string): string {
  const id = text.trim().toLowerCase();
  if (!isTaskId(id)) {
    throw new InvalidInput(`invalid task id '${text}': expected t_ and 8 hex characters, like t_1a2b3c4d`);
  }
  return id;
}
