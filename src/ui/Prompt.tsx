import { Text } from 'ink';
import { cleanLine } from '../sanitize.js';
import { cut } from './layout.js';
import { tint } from './color.js';

export interface PromptProps {
  label: string;
  value: string;
  width: number;
}

/** One line: the question, what has been typed, a cursor. */
export function Prompt({ label, value, width }: PromptProps) {
  return (
    <Text wrap="truncate" color={tint('cyan')}>
      {cut(`${cleanLine(label)} ${cleanLine(value)}█`, width)}
    </Text>
  );
}
