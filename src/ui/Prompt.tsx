import { Text } from 'ink';
import { cleanLine } from '../sanitize.js';
import { cut } from './layout.js';
import { tint } from './color.js';

export interface PromptProps {
  label: string;
  value: string;
  /** Where the cursor is, in characters. */
  cursor: number;
  /** What may be typed (the profiles, a format), shown after the label. */
  hint?: string | undefined;
  width: number;
}

/** One line: the question, what has been typed with the cursor in it. */
export function Prompt({ label, value, cursor, hint, width }: PromptProps) {
  const chars = [...cleanLine(value)];
  const before = chars.slice(0, cursor).join('');
  const at = chars[cursor] ?? ' ';
  const after = chars.slice(cursor + 1).join('');
  const question = `${cleanLine(label)}${hint ? ` (${cleanLine(hint)})` : ''}${label.endsWith(':') || hint === undefined ? '' : ':'} `;
  // The end of a long line stays in view: what is typed matters more than the question.
  const room = Math.max(1, width - 1);
  const text = cut(question, Math.max(0, room - chars.length - 1));
  return (
    <Text wrap="truncate" color={tint('cyan')}>
      {text}
      {before}
      <Text inverse>{at}</Text>
      {after}
    </Text>
  );
}
