import type { ReactElement } from 'react';
import { Box, Text } from 'ink';
import { cleanLine } from '../sanitize.js';
import { sparkline, type ProfileStats, type Stats } from '../stats.js';
import { RUN_OUTCOMES } from '../core/types.js';
import { formatSpan } from '../time.js';
import { tint } from './color.js';
import { cut } from './layout.js';
import { OUTCOME_COLOR } from './timeline.js';

/** Cells of a profile's bar: its runs by outcome, as long as the most runs of any profile is the width. */
function outcomeBar(profile: ProfileStats, most: number, width: number): Array<{ char: string; color: string | undefined; outcome: string }> {
  const cells: Array<{ char: string; color: string | undefined; outcome: string }> = [];
  const counts: Array<[string, number]> = [...RUN_OUTCOMES.filter((o) => profile.outcomes[o]).map((o) => [o, profile.outcomes[o]!] as [string, number]), ['running', profile.running]];
  for (const [outcome, count] of counts) {
    const length = count === 0 ? 0 : Math.max(1, Math.round((count / most) * width));
    for (let i = 0; i < length && cells.length < width; i++) cells.push({ char: '█', color: OUTCOME_COLOR[outcome], outcome });
  }
  return cells;
}

/**
 * `S`: the board's history as pictures. Completions per hour over the last 24 h as a sparkline with
 * its hours under it; each profile's runs as a bar coloured by outcome (the legend says which),
 * with its mean run time; the time lost to rate limits; the slowest tasks. Any key closes it.
 */
export function StatsView({ stats, width, height }: { stats: Stats | null; width: number; height: number }) {
  if (!stats) return <Text>reading the board's history…</Text>;
  const lines: ReactElement[] = [];
  const line = (key: string, node: ReactElement | string) => lines.push(<Text key={key} wrap="truncate">{node}</Text>);
  const spark = sparkline(stats.completions_per_hour);
  line('title', <Text bold>{cut('Statistics (any key closes this; kanban stats prints them)', width)}</Text>);
  line('spark-head', `completions per hour, last 24 h: ${stats.completions_24h} in all`);
  line('spark', <Text color={tint('cyan')}>{`  ${[...spark].map((c) => c + c).join('')}`}</Text>);
  line('spark-axis', <Text dimColor>{`  ${'-24h'.padEnd(24)}${'-12h'.padEnd(22)}now`}</Text>);
  line('gap1', ' ');
  const most = Math.max(1, ...stats.profiles.map((p) => p.runs));
  const nameWidth = Math.min(16, Math.max(8, ...stats.profiles.map((p) => (p.profile ?? '(none)').length)));
  const barWidth = Math.max(10, Math.min(50, width - nameWidth - 30));
  line('profiles-head', stats.profiles.length === 0 ? 'runs per profile: no runs yet' : 'runs per profile, by outcome (mean run time)');
  for (const p of stats.profiles.slice(0, Math.max(1, height - 16))) {
    const bar = outcomeBar(p, most, barWidth);
    line(
      `p-${p.profile}`,
      <>
        {`  ${cut(cleanLine(p.profile ?? '(none)'), nameWidth).padEnd(nameWidth)} `}
        {bar.map((cell, i) => (
          <Text key={i} color={tint(cell.color)}>
            {cell.char}
          </Text>
        ))}
        {`${' '.repeat(barWidth - bar.length)} ${String(p.runs).padStart(4)} run${p.runs === 1 ? '' : 's'} · ${p.mean_run_ms === null ? '—' : formatSpan(p.mean_run_ms)}`}
      </>,
    );
  }
  const seen = [...new Set(stats.profiles.flatMap((p) => [...Object.keys(p.outcomes), ...(p.running > 0 ? ['running'] : [])]))];
  if (seen.length > 0) {
    line(
      'legend',
      <>
        {'  '}
        {seen.map((o) => (
          <Text key={o} color={tint(OUTCOME_COLOR[o])}>{`█ ${o}  `}</Text>
        ))}
      </>,
    );
  }
  line('gap2', ' ');
  const wait = stats.rate_limit_wait;
  line('wait', `time lost to rate limits: ${formatSpan(wait.last_24h_ms)} in the last 24 h, ${formatSpan(wait.total_ms)} in all (${wait.cooldowns} cooldown${wait.cooldowns === 1 ? '' : 's'}${wait.waiting_now > 0 ? `, ${wait.waiting_now} waiting now` : ''})`);
  line('gap3', ' ');
  line('slow-head', stats.slowest_tasks.length === 0 ? 'slowest tasks: none has run yet' : 'slowest tasks (total run time)');
  for (const t of stats.slowest_tasks) line(`s-${t.id}`, cut(`  ${t.id} ${formatSpan(t.run_ms).padStart(4)} in ${t.runs} run${t.runs === 1 ? '' : 's'}  ${cleanLine(t.title)}`, width));
  return (
    <Box flexDirection="column" height={height}>
      {lines.slice(0, height)}
    </Box>
  );
}
