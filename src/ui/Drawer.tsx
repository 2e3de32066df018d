import { Box, Text } from 'ink';
import { describeEvent } from '../event-words.js';
import { cleanLine, cleanText } from '../sanitize.js';
import { formatSpan, formatWhen } from '../time.js';
import { cut } from './layout.js';
import { tint } from './color.js';
import { OUTCOME_COLOR, runTimeline } from './timeline.js';
import { otherHost } from '../host.js';
import type { TaskDetail } from '../port/types.js';

interface Line {
  text: string;
  color?: string | undefined;
  bold?: boolean;
  dim?: boolean;
  /** A run timeline: drawn cell by cell in its colours. */
  cells?: Array<{ char: string; color: string | undefined }>;
}

const clock = (ms: number) => new Date(ms).toTimeString().slice(0, 8);
/** Body lines shown before scrolling (the log tail gets the rest of the room). */
const BODY_LINES = 6;

export interface DrawerProps {
  detail: TaskDetail;
  logTail: string[];
  width: number;
  height: number;
  now: number;
  /** Lines scrolled down (↑↓ PgUp PgDn, the wheel): 0 shows the top, with the log's newest lines. */
  scroll: number;
}

/**
 * A task in full: body, parents and children, its runs on a time axis, recent events in words,
 * comments and the live tail of its worker's log. Built as lines and cut to the height, so it never
 * overflows the frame; scrolled, it shows everything (the whole body, the whole tail).
 */
export function Drawer({ detail, logTail, width, height, now, scroll }: DrawerProps) {
  const { task, runs, events, comments } = detail;
  const head: Line[] = [];
  const lines: Line[] = [];
  const add = (to: Line[], text: string, style: Omit<Line, 'text'> = {}) => to.push({ text: cut(text, width), ...style });
  const section = (title: string) => add(lines, title, { bold: true, color: 'cyan' });
  const full = scroll > 0;

  add(head, `${task.id}  ${cleanLine(task.title)}`, { bold: true });
  add(
    head,
    [
      task.status + (task.status_reason ? `: ${cleanLine(task.status_reason)}` : ''),
      task.assignee ? `@${cleanLine(task.assignee)}` : 'unassigned',
      `priority ${task.priority}`,
      `failures ${task.consecutive_failures}${task.max_retries !== null ? `/${task.max_retries}` : ''}`,
      ...(task.scheduled_until !== null ? [`due ${formatWhen(task.scheduled_until, now)}`] : []),
    ].join(' · '),
  );
  if (task.parents.length + task.children.length > 0) add(lines, `parents ${task.parents.join(', ') || '—'} · children ${task.children.join(', ') || '—'}`);
  const body = cleanText(task.body)
    .split('\n')
    .filter((l, i, all) => l.trim() !== '' || (i > 0 && i < all.length - 1));
  for (const line of full ? body : body.slice(0, BODY_LINES)) add(lines, `  ${line}`, { dim: true });
  if (!full && body.length > BODY_LINES) add(lines, `  … ${body.length - BODY_LINES} more lines (↓ scrolls)`, { dim: true });

  section(`runs (${runs.length})`);
  if (runs.length > 0) {
    const timeline = runTimeline(runs, events, now, Math.max(10, width - 4));
    lines.push({ text: '', cells: [{ char: '  ', color: undefined }, ...timeline.cells] });
    add(lines, `  ${timeline.axis}`, { dim: true });
  }
  for (const run of runs.slice(full ? 0 : -4).reverse()) {
    const took = formatSpan((run.ended_at ?? now) - run.started_at);
    const how = run.signal ? ` ${run.signal}` : run.exit_code !== null ? ` exit ${run.exit_code}` : '';
    const host = otherHost(run.claim_lock);
    const where = host === null ? '' : ` · on ${cleanLine(host)}`;
    add(lines, `  #${run.id} ${run.outcome ?? 'running'}${how} · ${took} · ${clock(run.started_at)}${where}${run.error ? ` · ${cleanLine(run.error)}` : ''}`, {
      color: OUTCOME_COLOR[run.outcome ?? 'running'],
    });
  }
  section('events');
  for (const event of events.slice(full ? 0 : -6).reverse()) add(lines, `  ${clock(event.created_at)} ${describeEvent(event.kind, event.payload as Record<string, unknown>, now)}`, { dim: true });
  if (comments.length > 0) {
    section(`comments (${comments.length})`);
    for (const c of comments.slice(full ? 0 : -3).reverse()) add(lines, `  ${clock(c.created_at)} ${cleanLine(c.author)}: ${cleanLine(c.body)}`);
  }
  section('log');
  const footer: Line = { text: cut(full ? 'Esc closes · ↑↓ PgUp PgDn scroll (g: top) · the task keys work here too' : 'Esc closes · ↓ scrolls · the task keys work here too', width), dim: true };
  const room = height - head.length - 1;
  if (full) {
    for (const line of logTail) add(lines, `  ${cleanLine(line)}`);
    if (logTail.length === 0) add(lines, '  (no output yet)', { dim: true });
  } else {
    const tail = logTail.slice(-Math.max(1, room - lines.length));
    if (tail.length === 0) add(lines, '  (no output yet)', { dim: true });
    for (const line of tail) add(lines, `  ${cleanLine(line)}`);
  }
  const start = Math.min(scroll, Math.max(0, lines.length - room));
  const shown = [...head, ...lines.slice(start, start + room), footer];

  return (
    <Box flexDirection="column" height={height}>
      {shown.slice(0, height).map((line, i) =>
        line.cells ? (
          <Text key={i} wrap="truncate">
            {line.cells.map((cell, k) => (
              <Text key={k} color={tint(cell.color)}>
                {cell.char}
              </Text>
            ))}
          </Text>
        ) : (
          <Text key={i} wrap="truncate" color={tint(line.color)} bold={line.bold} dimColor={line.dim}>
            {line.text || ' '}
          </Text>
        ),
      )}
    </Box>
  );
}
