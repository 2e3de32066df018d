import { Box, Text } from 'ink';
import { cleanLine } from '../sanitize.js';
import { formatSpan } from '../time.js';
import type { HostRow } from '../core/types.js';
import type { DispatcherState } from './dispatcher.js';
import { cut } from './layout.js';
import { tint } from './color.js';

export interface HeaderProps {
  board: string;
  dispatcher: DispatcherState;
  running: number;
  now: number;
  width: number;
  filter: string;
  /** Tasks with a diagnostics finding. */
  attention: number;
  marked: number;
  /** A board other hosts share: its hosts (none on a file board). */
  hosts?: readonly HostRow[];
}

/** A host heard from within this long is live; the others are quiet (off, or cut off). */
export const HOST_LIVE_MS = 60_000;

/** The board, the dispatcher's state (and its last error), the workers against the cap. */
export function Header({ board, dispatcher, running, now, width, filter, attention, marked, hosts = [] }: HeaderProps) {
  const live = hosts.filter((h) => now - h.last_seen_at <= HOST_LIVE_MS).length;
  const state = !dispatcher.enabled ? 'dispatcher off' : dispatcher.paused ? 'dispatcher PAUSED' : 'dispatcher running';
  const tick = dispatcher.lastTickAt === null ? '' : ` · tick ${formatSpan(now - dispatcher.lastTickAt)} ago`;
  const parts = [
    `kanban · ${cleanLine(board)}`,
    `${state}${tick}`,
    `workers ${running}/${dispatcher.cap}`,
    ...(hosts.length > 0 ? [`hosts ${live}${hosts.length > live ? ` (+${hosts.length - live} quiet)` : ''}`] : []),
    ...(attention > 0 ? [`${attention} need${attention === 1 ? 's' : ''} attention (D)`] : []),
    ...(marked > 0 ? [`${marked} marked`] : []),
    ...(filter ? [`filter "${cleanLine(filter)}"`] : []),
  ];
  return (
    <Text bold wrap="truncate" color={tint(dispatcher.paused ? 'yellow' : undefined)}>
      {cut(parts.join('  │  '), width)}
    </Text>
  );
}

export interface StatusLineProps {
  text: string;
  tone: 'ok' | 'error' | 'info';
  width: number;
}

export function StatusLine({ text, tone, width }: StatusLineProps) {
  return (
    <Text wrap="truncate" color={tint(tone === 'error' ? 'red' : tone === 'ok' ? 'green' : undefined)}>
      {cut(cleanLine(text), width)}
    </Text>
  );
}

export function Footer({ keys, width }: { keys: string; width: number }) {
  return (
    <Box>
      <Text dimColor wrap="truncate">
        {cut(keys, width)}
      </Text>
    </Box>
  );
}
