import { cleanLine } from './sanitize.js';
import { formatSpan, formatWhen } from './time.js';

/**
 * An event of a task's history in words, for a person ("heartbeat · lease 14m left"), not JSON:
 * times relative to `now`, text a worker wrote cleaned of terminal control sequences. The board's
 * drawer and `kanban events` both say events this way.
 */
export function describeEvent(kind: string, payload: Record<string, unknown>, now: number): string {
  const p = payload;
  const text = (key: string) => (typeof p[key] === 'string' && p[key] !== '' ? cleanLine(p[key] as string) : null);
  const num = (key: string) => (typeof p[key] === 'number' ? (p[key] as number) : null);
  const until = (key: string) => {
    const at = num(key);
    if (at === null) return null;
    return at > now ? `in ${formatSpan(at - now)}` : `${formatSpan(now - at)} ago`;
  };
  const move = text('from') && text('to') ? `${text('from')} → ${text('to')}` : text('to') ? `→ ${text('to')}` : null;
  const failures = num('failures') !== null ? `failure ${num('failures')}${num('limit') !== null ? ` of ${num('limit')}` : ''}` : null;
  const by = text('source') && text('source') !== 'user' ? `by ${text('source')}` : null;
  const parts = (...items: Array<string | null | false>) => [kind.replace(/_/g, ' '), ...items.filter((i): i is string => typeof i === 'string' && i !== '')].join(' · ');

  switch (kind) {
    case 'created':
      return parts(text('status'), text('assignee') && `@${text('assignee')}`, num('priority') ? `priority ${num('priority')}` : null);
    case 'claimed':
      return parts(text('profile') && `by ${text('profile')}`, num('run_id') !== null && `run #${num('run_id')}`, until('claim_expires') && `lease ends ${until('claim_expires')}`);
    case 'spawned':
      return parts(num('worker_pid') !== null && `pid ${num('worker_pid')}`);
    case 'heartbeat':
    case 'claim_extended': {
      const left = num('claim_expires');
      return parts(by, text('note'), left !== null && (left > now ? `lease ${formatSpan(left - now)} left` : 'lease ended'));
    }
    case 'rate_limited':
      return parts(until('cooldown_until') && `retry ${until('cooldown_until')}`, text('error'));
    case 'crashed':
    case 'hung':
    case 'timed_out':
    case 'stale':
    case 'protocol_violation':
    case 'spawn_failed':
    case 'reclaimed':
      return parts(failures, p.counted === false && 'not counted', until('cooldown_until') && `retry ${until('cooldown_until')}`, text('error') ?? text('reason'), text('source') === 'user' && 'by you');
    case 'gave_up':
      return parts(failures, text('trigger') && `last: ${text('trigger')}`);
    case 'blocked':
      return parts(text('reason'), by);
    case 'unblocked':
    case 'promoted':
    case 'promoted_manual':
    case 'reopened':
    case 'demoted':
    case 'changes_requested':
      return parts(move, by);
    case 'scheduled':
      return parts(until('until') && `due ${until('until')}`, text('reason'));
    case 'completed':
    case 'review':
      return parts(by, text('summary'));
    case 'assigned':
      return parts(`${text('from') ?? 'nobody'} → ${text('to') ?? 'nobody'}`);
    case 'commented':
      return parts(text('author') && `by ${text('author')}`);
    case 'linked':
    case 'unlinked':
      return parts(text('parent') && `parent ${text('parent')}`, text('child') && `child ${text('child')}`);
    case 'follow_up':
      return parts(text('task_id'), text('title'));
    case 'edited':
      return parts(Array.isArray(p.changes) ? (p.changes as unknown[]).map(String).join(', ') : typeof p.changes === 'object' && p.changes ? Object.keys(p.changes).join(', ') : null);
    case 'archived':
      return parts(text('from') && `from ${text('from')}`);
    default: {
      // No words of its own for this kind: every field, said generically.
      const all = describePayload(payload, now);
      return all ? `${kind.replace(/_/g, ' ')} · ${all}` : kind.replace(/_/g, ' ');
    }
  }
}

/**
 * An event's payload in words, for `kanban events`, `kanban show`, and the drawer for kinds without words of their own: `ready → todo, reason "needs
 * the key", sticky`. Keys become words, times are shown as every time is (formatWhen), spans in
 * short form; what a worker wrote is stripped of control sequences. Any payload renders, whatever
 * its kind: there is no table of kinds to keep up to date.
 */
export function describePayload(payload: Record<string, unknown>, now: number): string {
  return cut(fields(payload, now), PAYLOAD_MAX);
}

const PAYLOAD_MAX = 240;
const STRING_MAX = 80;
/** Keys whose numbers are times (epoch ms) or spans (ms). */
const TIME_KEY = /(^|_)(at|until|expires)$|^previous$/;
const SPAN_KEY = /_ms$/;

function fields(object: Record<string, unknown>, now: number): string {
  const parts: string[] = [];
  const { from, to, ...rest } = object;
  if (to !== undefined) parts.push(`${from === undefined || from === null ? 'new' : value('from', from, now)} → ${value('to', to, now)}`);
  else if (from !== undefined && from !== null) parts.push(`from ${value('from', from, now)}`);
  for (const [key, v] of Object.entries(rest)) {
    if (v === null || v === undefined) continue;
    const words = key.replace(SPAN_KEY, '').replace(/_/g, ' ');
    if (v === true) parts.push(words);
    else if (v === false) parts.push(`not ${words}`);
    else parts.push(`${words} ${value(key, v, now)}`);
  }
  return parts.join(', ');
}

function value(key: string, v: unknown, now: number): string {
  if (typeof v === 'number') return TIME_KEY.test(key) ? formatWhen(v, now) : SPAN_KEY.test(key) ? formatSpan(v) : String(v);
  if (typeof v === 'string') return text(v);
  if (Array.isArray(v)) {
    if (v.length === 0) return 'none';
    return v.every((item) => typeof item !== 'object' || item === null) ? v.map((item) => value(key, item, now)).join(' ') : String(v.length);
  }
  if (typeof v === 'object' && v !== null) {
    const inner = fields(v as Record<string, unknown>, now);
    return 'to' in v && Object.keys(v).length <= 2 ? inner : `(${inner})`;
  }
  return String(v);
}

/** A string as it is when it is one word, quoted when it has spaces (or is empty), cut when long. */
function text(raw: string): string {
  const clean = cut(cleanLine(raw), STRING_MAX);
  return clean === '' || /\s/.test(clean) ? `"${clean}"` : clean;
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
