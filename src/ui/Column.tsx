import { Box, Text } from 'ink';
import type { Severity } from '../diagnostics/rules.js';
import type { Thresholds } from './cards.js';
import type { ColumnView } from '../core/types.js';
import { Card } from './Card.js';
import { cardHeight, cut } from './layout.js';
import type { Status } from '../core/types.js';
import { tint } from './color.js';

export interface ColumnProps {
  view: ColumnView;
  width: number;
  perColumn: number;
  active: boolean;
  now: number;
  limits: Thresholds;
  flags?: ReadonlyMap<string, Severity>;
  marks?: ReadonlySet<string>;
  titleLines?: number;
}

/** A status column: its title and count, a window of cards, and how many more there are either side. */
export function Column({ view, width, perColumn, active, now, limits, flags, marks, titleLines = 1 }: ColumnProps) {
  const below = view.count - view.offset - view.cards.length;
  const title = `${view.status.toUpperCase()} ${view.count}${view.sort === 'column' ? '' : ` ↕${view.sort}`}`;
  return (
    <Box flexDirection="column" width={width} height={perColumn * cardHeight(titleLines) + 3}>
      <Text bold color={tint(active ? 'cyan' : undefined)} underline={active} wrap="truncate">
        {cut(title, width - 1)}
      </Text>
      <Text dimColor wrap="truncate">{view.offset > 0 ? `  ↑ ${view.offset} more` : ' '}</Text>
      <Box flexDirection="column" height={perColumn * cardHeight(titleLines)}>
        {view.cards.length === 0 ? <Text dimColor>  (empty)</Text> : null}
        {view.cards.map((card, i) => (
          <Card
            key={card.id}
            card={card}
            width={width}
            selected={active && view.offset + i === view.index}
            now={now}
            limits={limits}
            flag={flags?.get(card.id)}
            marked={marks?.has(card.id) ?? false}
            titleLines={titleLines}
          />
        ))}
      </Box>
      <Text dimColor wrap="truncate">{below > 0 ? `  ↓ ${below} more` : ' '}</Text>
    </Box>
  );
}

/** Four letters a collapsed column is known by. */
export const SHORT_NAME: Record<Status, string> = {
  triage: 'TRI',
  todo: 'TODO',
  ready: 'RDY',
  running: 'RUN',
  blocked: 'BLK',
  scheduled: 'SCHD',
  review: 'REV',
  done: 'DONE',
  archived: 'ARCH',
};

/** A column with no room (or no cards): its short name over its count, so no status is ever off screen. */
export function CollapsedColumn({ view, width, active }: { view: ColumnView; width: number; active: boolean }) {
  return (
    <Box flexDirection="column" width={width}>
      <Text bold color={tint(active ? 'cyan' : undefined)} underline={active} dimColor={!active && view.count === 0} wrap="truncate">
        {cut(SHORT_NAME[view.status], width - 1)}
      </Text>
      <Text bold={view.count > 0} dimColor={view.count === 0} wrap="truncate">
        {cut(String(view.count), width - 1)}
      </Text>
    </Box>
  );
}
