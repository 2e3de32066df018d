import { Box, Text } from 'ink';
import { helpRows, type Keymap } from './commands.js';
import { cut } from './layout.js';

/**
 * Every key of the command table, with what it does, in as many columns as the height needs (one
 * line per key, never two squeezed into one). Any key closes it.
 */
export function Help({ height, width, keymap }: { height: number; width: number; keymap?: Keymap }) {
  const keys = helpRows(keymap);
  const rows = Math.max(1, height - 1);
  const columns = Math.ceil(keys.length / rows);
  const columnWidth = Math.max(1, Math.floor(width / columns));
  return (
    <Box flexDirection="column" height={height}>
      <Text bold wrap="truncate">
        {cut('Keys (any key closes this) · in prompts: ←→ Home End, Ctrl-U Ctrl-W Ctrl-K, Tab completes', width)}
      </Text>
      <Box flexDirection="row">
        {Array.from({ length: columns }, (_, c) => (
          <Box key={c} flexDirection="column" width={columnWidth} flexShrink={0}>
            {keys.slice(c * rows, (c + 1) * rows).map((k) => (
              <Text key={k.keys} wrap="truncate">
                {cut(` ${k.keys.padEnd(9)} ${k.does}${k.when ? `  (${k.when})` : ''}`, columnWidth - 1)}
              </Text>
            ))}
          </Box>
        ))}
      </Box>
    </Box>
  );
}
