import { cleanLine } from './sanitize.js';
import { formatSpan } from './time.js';

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
    default:
      return parts(move, by, text('reason') ?? text('error'));
  }
}
