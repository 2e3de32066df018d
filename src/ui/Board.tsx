import { Box } from 'ink';
import type { Severity } from '../diagnostics/rules.js';
import type { Status } from '../core/types.js';
import type { Thresholds } from './cards.js';
import type { ColumnView } from '../core/types.js';
import { Column, CollapsedColumn } from './Column.js';
import type { BoardGeometry } from './geometry.js';

export interface BoardProps {
  columns: ColumnView[];
  geometry: BoardGeometry;
  active: Status;
  now: number;
  limits: Thresholds;
  flags: ReadonlyMap<string, Severity>;
  marks: ReadonlySet<string>;
}

/** Every column, side by side: full ones with their cards, collapsed ones as their name and count. */
export function Board({ columns, geometry, active, now, limits, flags, marks }: BoardProps) {
  return (
    <Box flexDirection="row">
      {columns.map((view, i) =>
        geometry.expanded[i] ? (
          <Column key={view.status} view={view} width={geometry.widths[i]!} perColumn={geometry.perColumn} titleLines={geometry.titleLines} active={view.status === active} now={now} limits={limits} flags={flags} marks={marks} />
        ) : (
          <CollapsedColumn key={view.status} view={view} width={geometry.widths[i]!} active={view.status === active} />
        ),
      )}
    </Box>
  );
}
