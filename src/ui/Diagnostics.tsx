import { Box, Text } from 'ink';
import type { Finding } from '../diagnostics/rules.js';
import { cleanLine } from '../sanitize.js';
import { SEVERITY_COLOR } from './Card.js';
import { cut } from './layout.js';
import { windowStart } from '../core/window.js';
import { tint } from './color.js';

/** What needs a human, most severe first: Enter goes to the card, the fix key acts from here too. */
export function Diagnostics({ findings, selected, width, height }: { findings: readonly Finding[]; selected: number; width: number; height: number }) {
  const rows = Math.max(1, height - 2);
  const start = windowStart(selected, rows, findings.length);
  return (
    <Box flexDirection="column" height={height}>
      <Text bold>
        {findings.length === 0 ? 'Nothing needs attention.' : `${findings.length} finding${findings.length === 1 ? '' : 's'}, most severe first · Enter: go to the card · Esc: back`}
      </Text>
      {findings.slice(start, start + rows).map((f, i) => {
        const active = start + i === selected;
        const text = `${f.task_id} ${f.rule}: ${cleanLine(f.reason)} · fix: ${f.fix.key} (${f.fix.command}) · ${cleanLine(f.title)}`;
        return (
          <Text key={`${f.task_id}:${f.rule}`} wrap="truncate" inverse={active}>
            <Text color={tint(SEVERITY_COLOR[f.severity])}>{`● ${f.severity.padEnd(8)} `}</Text>
            {cut(text, width - 12)}
          </Text>
        );
      })}
      <Text dimColor>{findings.length > start + rows ? `↓ ${findings.length - start - rows} more` : ' '}</Text>
    </Box>
  );
}
