import { Box, Text } from 'ink';
import type { Severity } from '../diagnostics/rules.js';
import type { Thresholds } from './cards.js';
import type { ColumnView } from './board-view.js';
import { Card } from './Card.js';
import { CARD_HEIGHT, cut } from './layout.js';
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
}

/** A status column: its title and count, a window of cards, and how many more there are either side. */
export function Column({ view, width, perColumn, active, now, limits, flags, marks }: ColumnProps) {
  const below = view.count - view.offset - view.cards.length;
  const title = `${view.status.toUpperCase()} ${view.count}`;
  return (
    <Box flexDirection="column" width={width} height={perColumn * CARD_HEIGHT + 3}>
      <Text bold color={tint(active ? 'cyan' : undefined)} underline={active} wrap="truncate">
        {cut(title, width - 1)}
      </Text>
      <Text dimColor wrap="truncate">{view.offset > 0 ? `  ↑ ${view.offset} more` : ' '}</Text>
      <Box flexDirection="column" height={perColumn * CARD_HEIGHT}>
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
          />
        ))}
      </Box>
      <Text dimColor wrap="truncate">{below > 0 ? `  ↓ ${below} more` : ' '}</Text>
    </Box>
  );
}
