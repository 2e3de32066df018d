import { Box, Text } from 'ink';
import type { Severity } from '../diagnostics/rules.js';
import type { Card as CardRow } from '../store/board.js';
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
export function Card({ card, width, selected, now, limits, flag, marked = false, titleLines = 1 }: CardProps) {
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
