import { cleanLine, cleanText } from '../sanitize.js';
import { formatSpan } from '../time.js';
import type { TaskDetail } from '../store/tasks.js';
import type { Task } from '../store/types.js';

export function writeLine(text = ''): void {
  process.stdout.write(`${text}\n`);
}

/** Bytes that are already output (JSON built by SQLite), then a newline. */
export function writeBytes(bytes: Buffer): void {
  process.stdout.write(bytes);
  process.stdout.write('\n');
}

export function writeJson(value: unknown): void {
  writeLine(JSON.stringify(value, null, 2));
}

export function formatTimestamp(ms: number | null): string {
  if (ms === null) return '—';
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** One line for a task after a mutation: `unblocked t_1a2b3c4d  ready  Fix the login bug`. */
export function formatTaskLine(task: Task, verb: string): string {
  return `${verb} ${task.id}  ${task.status}  ${cleanLine(task.title)}`;
}

/** Prints the task a mutation produced: JSON, or one human line. */
export function printTask(task: Task, verb: string, json: boolean): void {
  if (json) writeJson(task);
  else writeLine(formatTaskLine(task, verb));
}

export function printTaskTable(tasks: readonly Task[]): void {
  if (tasks.length === 0) {
    writeLine('no tasks');
    return;
  }
  const rows = tasks.map((t) => [t.id, t.status, String(t.priority), t.assignee ? cleanLine(t.assignee) : '—', cleanLine(t.title)]);
  const header = ['ID', 'STATUS', 'PRI', 'ASSIGNEE', 'TITLE'];
  const widths = header.slice(0, 4).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const maxWidth = process.stdout.isTTY ? process.stdout.columns : Infinity;
  const format = (cells: string[]) => {
    const line = cells.slice(0, 4).map((c, i) => (i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ') + '  ' + cells[4];
    return line.length > maxWidth ? `${line.slice(0, maxWidth - 1)}…` : line;
  };
  writeLine(format(header));
  for (const row of rows) writeLine(format(row));
}

function field(label: string, value: string): string {
  return `${label.padEnd(11)}${value}`;
}

export function printTaskDetail(detail: TaskDetail, now: number): void {
  const { task, runs, events, comments } = detail;
  writeLine(`${task.id}  ${cleanLine(task.title)}`);
  writeLine(field('status', `${task.status}${task.status_reason ? ` — ${cleanLine(task.status_reason)}` : ''}`));
  writeLine(field('priority', String(task.priority)));
  writeLine(field('assignee', task.assignee ? cleanLine(task.assignee) : '—'));
  writeLine(field('parents', task.parents.join(', ') || '—'));
  writeLine(field('children', task.children.join(', ') || '—'));
  writeLine(field('failures', `${task.consecutive_failures}${task.max_retries !== null ? ` (limit ${task.max_retries})` : ''}`));
  if (task.scheduled_until !== null) writeLine(field('due', formatTimestamp(task.scheduled_until)));
  if (task.claim_lock !== null) {
    writeLine(field('claim', `${cleanLine(task.claim_lock)} run ${task.current_run_id ?? '—'} pid ${task.worker_pid ?? '—'}`));
    if (task.claim_expires !== null) writeLine(field('lease', `${task.claim_expires >= now ? 'ends in' : 'expired'} ${formatSpan(task.claim_expires - now)}`));
  }
  writeLine(field('workspace', `${task.workspace_kind}${task.workspace_path ? ` ${cleanLine(task.workspace_path)}` : ''}`));
  writeLine(field('created', formatTimestamp(task.created_at)));
  writeLine(field('updated', formatTimestamp(task.updated_at)));
  if (task.completed_at !== null) writeLine(field('completed', formatTimestamp(task.completed_at)));
  if (task.summary) writeLine(field('summary', cleanLine(task.summary)));
  if (task.body) {
    writeLine();
    writeLine(cleanText(task.body));
  }
  if (runs.length > 0) {
    writeLine();
    writeLine(`runs (${runs.length})`);
    for (const run of runs) {
      const took = run.ended_at !== null ? formatSpan(run.ended_at - run.started_at) : 'running';
      const exit = run.exit_code !== null ? ` exit ${run.exit_code}` : '';
      writeLine(`  #${run.id}  ${run.outcome ?? run.status}${exit}  ${formatTimestamp(run.started_at)}  ${took}${run.error ? `  ${cleanLine(run.error)}` : ''}`);
    }
  }
  if (comments.length > 0) {
    writeLine();
    writeLine(`comments (${comments.length})`);
    for (const c of comments) writeLine(`  ${formatTimestamp(c.created_at)}  ${cleanLine(c.author)}: ${cleanLine(c.body)}`);
  }
  const recent = events.slice(-20);
  writeLine();
  writeLine(`events (${recent.length < events.length ? `last ${recent.length} of ${events.length}` : events.length})`);
  for (const e of recent) writeLine(`  ${formatTimestamp(e.created_at)}  ${e.kind}  ${cleanLine(JSON.stringify(e.payload))}`);
}
