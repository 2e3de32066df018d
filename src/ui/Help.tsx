import { Box, Text } from 'ink';
import { KEYS } from './keymap.js';

/** Every key, with what it does. Any key closes it. */
export function Help({ height }: { height: number }) {
  return (
    <Box flexDirection="column" height={height}>
      <Text bold>Keys (any key closes this)</Text>
      {KEYS.map((k) => (
        <Text key={k.keys} wrap="truncate">
          {`  ${k.keys.padEnd(8)} ${k.does}${k.when ? `  (${k.when.join(', ')})` : ''}`}
        </Text>
      ))}
    </Box>
  );
}
