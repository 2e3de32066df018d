import { Box, Text } from 'ink';
import { memo } from 'react';
import type { Severity } from '../diagnostics/rules.js';
import type { Card as CardRow } from '../core/types.js';
import { cleanLine } from '../sanitize.js';
import { cardDetail, cardHead, runningLevel, type Level, type Thresholds } from './cards.js';
import { cardHeight, cut, wrap } from './layout.js';
import { tint } from './color.js';

const LEVEL_COLOR: Record<Level, string | undefined> = { ok: undefined, warning: 'yellow', critical: 'red' };
export const SEVERITY_COLOR: Record<Severity, string> = { critical: 'red', error: 'magenta', warning: 'yellow' };

export interface CardProps {
  card: CardRow;
  width: number;
  selected: boolean;
  now: number;
  limits: Thresholds;
  /** The most severe diagnostics finding on it, if any: a marker in its colour. */
  flag?: Severity | undefined;
  /** Marked (`v`) for an action on several cards at once. */
  marked?: boolean;
  /** Lines the title may take (a narrow column wraps it rather than cutting it short). */
  titleLines?: number;
}

/** Id, priority and assignee; the title (one line or two); what its status has to say. */
function CardView({ card, width, selected, now, limits, flag, marked = false, titleLines = 1 }: CardProps) {
  const inner = width - 4;
  const level = card.status === 'running' ? runningLevel(card, now, limits) : card.status === 'blocked' && card.block_kind === 'breaker' ? 'critical' : 'ok';
  const head = cardHead(card);
  const marker = selected ? '▌' : ' ';
  return (
    <Box flexDirection="column" width={width} height={cardHeight(titleLines)}>
      <Text wrap="truncate">
        <Text inverse={selected}>{marker}</Text>
        <Text color={tint(flag ? SEVERITY_COLOR[flag] : undefined)}>{flag ? '●' : ' '}</Text>
        <Text color={tint('cyan')}>{marked ? '✓' : ' '}</Text>
        <Text inverse={selected}>{cut(head, inner)}</Text>
      </Text>
      {wrapTitle(cleanLine(card.title), inner, titleLines).map((line, i) => (
        <Text key={i} wrap="truncate" bold={selected}>
          {marker}   {line}
        </Text>
      ))}
      <Text wrap="truncate" color={tint(LEVEL_COLOR[level])} dimColor={level === 'ok'}>
        {marker}   {cut(cleanLine(cardDetail(card, now)), inner)}
      </Text>
    </Box>
  );
}

/** The title in exactly `lines` lines (blank ones after a short title: every card has one height). */
function wrapTitle(title: string, width: number, lines: number): string[] {
  const wrapped = wrap(title, width, lines);
  return [...wrapped, ...Array<string>(lines - wrapped.length).fill('')];
}

/** The fields of a card that it draws: a new read of an unchanged card draws nothing again. */
const DRAWN: ReadonlyArray<keyof CardRow> = [
  'id', 'title', 'priority', 'assignee', 'status', 'status_reason', 'summary', 'worker_pid', 'started_at', 'last_heartbeat_at',
  'claim_expires', 'consecutive_failures', 'scheduled_until', 'block_kind', 'held_by', 'held_until',
];

/** Whether a card's drawing depends on the time (a running card's ages, a due date, a retry). */
function ticks(card: CardRow): boolean {
  return card.status === 'running' || card.status === 'scheduled' || card.held_until !== null;
}

/**
 * A card, drawn again only when what it shows changed: on a change elsewhere on a board of many
 * cards (a task added above), React leaves the others as they are.
 */
export const Card = memo(CardView, (a, b) =>
  a.width === b.width &&
  a.selected === b.selected &&
  a.flag === b.flag &&
  a.marked === b.marked &&
  a.titleLines === b.titleLines &&
  a.limits.claimTtlMs === b.limits.claimTtlMs &&
  a.limits.heartbeatMaxStaleMs === b.limits.heartbeatMaxStaleMs &&
  (a.now === b.now || !ticks(b.card)) &&
  DRAWN.every((key) => a.card[key] === b.card[key]),
);
