import { Box } from 'ink';
import type { Severity } from '../diagnostics/rules.js';
import type { Status } from '../store/types.js';
import type { Thresholds } from './cards.js';
import type { ColumnView } from './board-view.js';
import { Column } from './Column.js';

export interface BoardProps {
  columns: ColumnView[];
  active: Status;
  width: number;
  perColumn: number;
  now: number;
  limits: Thresholds;
  flags: ReadonlyMap<string, Severity>;
  marks: ReadonlySet<string>;
}

/** The columns that fit, side by side; the header says how many more are off screen either side. */
export function Board({ columns, active, width, perColumn, now, limits, flags, marks }: BoardProps) {
  return (
    <Box flexDirection="row">
      {columns.map((view) => (
        <Column key={view.status} view={view} width={width} perColumn={perColumn} active={view.status === active} now={now} limits={limits} flags={flags} marks={marks} />
      ))}
    </Box>
  );
}
