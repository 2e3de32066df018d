import { parseTaskId } from '../ids.js';
import { parseDuration } from '../time.js';
import { parseChoice, parseInteger, parseWorkspace } from './parse.js';
import type { CreateInput } from '../port/types.js';

/**
 * A new task's fields as they come in: text from the command line (`create`), or the values of a
 * JSON line (`import`, where numbers may be numbers). Checked and converted in one place.
 */
export interface CreateFields {
  title: string;
  body?: string | undefined;
  /** A profile, or `none` (or null) for nobody. */
  assignee?: string | null | undefined;
  priority?: string | number | undefined;
  /** Task ids, as typed. */
  parents?: readonly string[] | undefined;
  triage?: boolean | undefined;
  status?: string | undefined;
  maxRetries?: string | number | undefined;
  /** A duration: `90`, `15m`, `2 hours`; a number is seconds. */
  maxRuntime?: string | number | undefined;
  workspace?: string | undefined;
  idempotencyKey?: string | undefined;
}

/** The statuses a task may be created in (besides triage, which has its own flag). */
export const CREATE_STATUSES = ['todo', 'ready', 'blocked'] as const;

/** `none` (any case) means nobody. */
export function noneIsNull(assignee: string): string | null {
  return assignee.trim().toLowerCase() === 'none' ? null : assignee;
}

/** Checks create's fields and makes the store's input of them; the store checks the rest (title, ranges). */
export function parseCreateFields(fields: CreateFields): CreateInput {
  return {
    title: fields.title,
    body: fields.body ?? '',
    assignee: fields.assignee == null ? null : noneIsNull(fields.assignee),
    priority: parseInteger(String(fields.priority ?? 0), 'priority'),
    parents: (fields.parents ?? []).map(parseTaskId),
    triage: fields.triage ?? false,
    ...(fields.status !== undefined && { status: parseChoice(fields.status, CREATE_STATUSES, 'status') }),
    maxRetries: fields.maxRetries === undefined ? null : parseInteger(String(fields.maxRetries), 'max retries'),
    maxRuntimeSeconds: fields.maxRuntime === undefined ? null : parseDuration(String(fields.maxRuntime), 'max runtime'),
    workspace: parseWorkspace(fields.workspace ?? 'scratch'),
    ...(fields.idempotencyKey !== undefined && { idempotencyKey: fields.idempotencyKey }),
  };
}
