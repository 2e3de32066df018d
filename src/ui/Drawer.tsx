import { Box, Text } from 'ink';
import { cleanLine, cleanText } from '../sanitize.js';
import type { TaskDetail } from '../store/tasks.js';
import { formatSpan, formatWhen } from '../time.js';
import { cut } from './layout.js';
import { tint } from './color.js';

interface Line {
  text: string;
  color?: string;
  bold?: boolean;
  dim?: boolean;
}

const clock = (ms: number) => new Date(ms).toTimeString().slice(0, 8);

/**
 * A task in full: body, parents and children, runs, recent events, comments and the live tail of its
 * worker's log. Built as lines and cut to the height, so it can never overflow the frame.
 */
export function Drawer({ detail, logTail, width, height, now }: { detail: TaskDetail; logTail: string[]; width: number; height: number; now: number }) {
  const { task, runs, events, comments } = detail;
  const lines: Line[] = [];
  const add = (text: string, style: Omit<Line, 'text'> = {}) => lines.push({ text: cut(text, width), ...style });
  const section = (title: string) => add(title, { bold: true, color: 'cyan' });

  add(`${task.id}  ${cleanLine(task.title)}`, { bold: true });
  add(
    [
      task.status + (task.status_reason ? `: ${cleanLine(task.status_reason)}` : ''),
      task.assignee ? `@${cleanLine(task.assignee)}` : 'unassigned',
      `priority ${task.priority}`,
      `failures ${task.consecutive_failures}${task.max_retries !== null ? `/${task.max_retries}` : ''}`,
      ...(task.scheduled_until !== null ? [`due ${formatWhen(task.scheduled_until, now)}`] : []),
    ].join(' · '),
  );
  if (task.parents.length + task.children.length > 0) add(`parents ${task.parents.join(', ') || '—'} · children ${task.children.join(', ') || '—'}`);
  for (const line of cleanText(task.body).split('\n').slice(0, 4)) if (line.trim()) add(`  ${line}`, { dim: true });

  section(`runs (${runs.length})`);
  for (const run of runs.slice(-4).reverse()) {
    const took = formatSpan((run.ended_at ?? now) - run.started_at);
    const how = run.signal ? ` ${run.signal}` : run.exit_code !== null ? ` exit ${run.exit_code}` : '';
    add(`  #${run.id} ${run.outcome ?? 'running'}${how} · ${took} · ${clock(run.started_at)}${run.error ? ` · ${cleanLine(run.error)}` : ''}`, {
      color: run.outcome === null ? 'green' : run.outcome === 'completed' ? undefined : 'yellow',
    });
  }
  section('events');
  for (const event of events.slice(-6).reverse()) add(`  ${clock(event.created_at)} ${event.kind} ${cleanLine(JSON.stringify(event.payload))}`, { dim: true });
  if (comments.length > 0) {
    section(`comments (${comments.length})`);
    for (const c of comments.slice(-3).reverse()) add(`  ${clock(c.created_at)} ${cleanLine(c.author)}: ${cleanLine(c.body)}`);
  }
  section('log');
  const room = Math.max(1, height - lines.length - 1);
  const tail = logTail.slice(-room);
  if (tail.length === 0) add('  (no output yet)', { dim: true });
  for (const line of tail) add(`  ${cleanLine(line)}`);
  add('Esc closes · the task keys work here too', { dim: true });

  return (
    <Box flexDirection="column" height={height}>
      {lines.slice(0, height).map((line, i) => (
        <Text key={i} wrap="truncate" color={tint(line.color)} bold={line.bold} dimColor={line.dim}>
          {line.text || ' '}
        </Text>
      ))}
    </Box>
  );
}
