import { InvalidInput, KanbanError } from '../errors.js';
import { parseCreateFields } from './task-input.js';
import type { CreateInput } from '../port/types.js';

/**
 * `kanban import`: JSON lines, one task per line. Blank lines and lines starting with `#` are skipped.
 * A line's fields are create's, snake_case; `parents` holds task ids (`t_1a2b3c4d`) and line numbers
 * of this file (1-based, as an editor and the errors count them; blank and comment lines count too)
 * of earlier lines.
 */
export interface ImportLine {
  /** Its line number in the file, from 1. */
  line: number;
  input: CreateInput;
  /** Lines of this file whose tasks are its parents (besides the ids in `input.parents`). */
  parentLines: number[];
}

type Kind = 'string' | 'number' | 'boolean' | 'array';

/** Each field a line may have, and the JSON types it takes (null is the same as leaving it out). */
const FIELDS: Record<string, readonly Kind[]> = {
  title: ['string'],
  body: ['string'],
  assignee: ['string'],
  priority: ['number', 'string'],
  status: ['string'],
  triage: ['boolean'],
  max_retries: ['number', 'string'],
  max_runtime: ['number', 'string'],
  workspace: ['string'],
  idempotency_key: ['string'],
  parents: ['array'],
};

/** Parses the whole file before anything is written: the first bad line is `line N: why` (exit 2). */
export function parseImport(text: string): ImportLine[] {
  const lines: ImportLine[] = [];
  const taskLines = new Set<number>();
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    try {
      lines.push(parseLine(trimmed, line, taskLines));
    } catch (err) {
      if (err instanceof KanbanError) throw new InvalidInput(`line ${line}: ${err.message}`);
      throw err;
    }
    taskLines.add(line);
  });
  return lines;
}

function parseLine(text: string, line: number, taskLines: ReadonlySet<number>): ImportLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidInput(`not JSON (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidInput('expected a JSON object, one task per line');
  const fields = value as Record<string, unknown>;
  for (const [key, field] of Object.entries(fields)) {
    const kinds = FIELDS[key];
    if (!kinds) throw new InvalidInput(`unknown field '${key}' (fields: ${Object.keys(FIELDS).join(', ')})`);
    if (field !== null && !(kinds as readonly string[]).includes(kindOf(field))) throw new InvalidInput(`${key}: expected ${kinds.join(' or ')}, got ${kindOf(field)}`);
  }
  const get = <T>(key: string): T | undefined => (fields[key] ?? undefined) as T | undefined;
  if (typeof fields.title !== 'string') throw new InvalidInput('title: a task needs a title');

  const ids: string[] = [];
  const parentLines: number[] = [];
  for (const parent of get<unknown[]>('parents') ?? []) {
    if (typeof parent === 'string') ids.push(parent);
    else if (typeof parent === 'number') parentLines.push(earlierLine(parent, line, taskLines));
    else throw new InvalidInput(`parents: expected task ids or line numbers, got ${kindOf(parent)}`);
  }
  const input = parseCreateFields({
    title: fields.title,
    body: get('body'),
    assignee: get('assignee'),
    priority: get('priority'),
    parents: ids,
    triage: get('triage'),
    status: get('status'),
    maxRetries: get('max_retries'),
    maxRuntime: get('max_runtime'),
    workspace: get('workspace'),
    idempotencyKey: get('idempotency_key'),
  });
  return { line, input, parentLines };
}

function earlierLine(parent: number, line: number, taskLines: ReadonlySet<number>): number {
  if (!Number.isInteger(parent) || parent >= line || parent < 1) throw new InvalidInput(`parents: ${parent} is not an earlier line of this file (lines count from 1)`);
  if (!taskLines.has(parent)) throw new InvalidInput(`parents: line ${parent} holds no task`);
  return parent;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
