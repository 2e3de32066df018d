import { Box, Text, useApp, useInput, useStdout } from 'ink';
import { useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import { systemClock, type Clock } from '../clock.js';
import type { TickContext } from '../dispatcher/context.js';
import type { Settings } from '../settings.js';
import { Board } from './Board.js';
import { Footer, Header, StatusLine } from './Chrome.js';
import { footerFor, type Keymap } from './commands.js';
import { BoardController } from './controller.js';
import type { DispatcherHandle } from './dispatcher.js';
import { Diagnostics } from './Diagnostics.js';
import { Drawer } from './Drawer.js';
import { Help } from './Help.js';
import { frameHeight, mainHeight, terminalSize, type Size } from './layout.js';
import { clamp } from '../core/window.js';
import type { BoardModel } from './model.js';
import { Prompt } from './Prompt.js';
import { StatsView } from './StatsView.js';
import { tint } from './color.js';

export interface AppProps {
  /** The board as read so far (BoardModel.open): the first frame draws it. */
  model: BoardModel;
  boardName: string;
  dispatcher: DispatcherHandle;
  /** A fresh context for an action: the time now, the settings in force, the killer. */
  context: () => TickContext;
  settings: () => Settings;
  /** The config's profile names (for `a`, `:assign` and create). */
  profiles?: () => readonly string[];
  clock?: Clock;
  /** Fixed size (tests); otherwise the terminal's, following resizes. */
  size?: Size;
  /** Watch the file for other processes' changes (off in component tests). */
  watch?: boolean;
  /** Rings the terminal's bell when a task comes to need a person (`--bell`). */
  bell?: () => void;
  /** $EDITOR with the screen given back (`e`), the clipboard (`Y`), Ctrl-Z: the terminal's, from run.tsx. */
  edit?: (text: string) => string | null;
  copy?: (text: string) => void;
  suspend?: () => void;
  /** The keys, with the config's `keys:` (read once, at start). */
  keymap?: Keymap;
}

function useTerminalSize(fixed?: Size): Size {
  const { stdout } = useStdout();
  const read = () => terminalSize(stdout);
  const [size, setSize] = useState(read);
  useEffect(() => {
    if (fixed) return;
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout, fixed]);
  return fixed ?? size;
}

/**
 * The board's layout: header, the board (or the drawer, help, diagnostics), the status line and
 * the footer or the open prompt. It draws the controller's view and hands it the keys; it reads
 * nothing itself.
 */
export function App({ model, boardName, dispatcher, context, settings, profiles = () => [], clock = systemClock, size: fixedSize, watch = true, bell, edit, copy, suspend, keymap }: AppProps) {
  const { exit } = useApp();
  const size = useTerminalSize(fixedSize);
  const controller = useMemo(
    () => new BoardController({ model, dispatcher, context, profiles, clock, exit, ...(bell && { bell }), ...(edit && { edit }), ...(copy && { copy }), ...(suspend && { suspend }), ...(keymap && { keymap }) }, size),
    [model],
  );
  useEffect(() => {
    controller.start(watch);
    return () => controller.stop();
  }, [controller, watch]);
  useEffect(() => controller.resize(size), [controller, size.columns, size.rows]);
  // Ink's write erases its frame, writes (nothing) and draws the last frame whole: after the editor or fg.
  const { write } = useStdout();
  useEffect(() => {
    controller.repaint = () => write('');
  }, [controller, write]);
  // Every key goes straight to the controller, which keeps its own state: nothing waits for a frame.
  useInput((input, key) => controller.input(input, key));
  const view = useSyncExternalStore(controller.subscribe, controller.view);

  const { ui, snapshot, geometry, now } = view;
  const { board, detail, findings, flags } = snapshot;
  const height = mainHeight(ui.size);
  const limits = { claimTtlMs: settings().claimTtlSeconds * 1000, heartbeatMaxStaleMs: settings().heartbeatMaxStaleSeconds * 1000 };
  const active = board.columns.find((c) => c.status === ui.column) ?? board.columns[0]!;
  const selected = active.cards[active.index - active.offset] ?? null;
  const selectedStatus = ui.drawer !== null ? (detail?.task.status ?? null) : (selected?.status ?? null);
  const keysLine = ui.marks.size > 0 ? `${ui.marks.size} marked · r u p s x X act on all of them · v unmark · Esc clears the marks` : footerFor(selectedStatus, controller.keymap);
  const dialog = ui.dialog;

  let main;
  if (dialog?.kind === 'help') main = <Help height={height} width={ui.size.columns} keymap={controller.keymap} />;
  else if (dialog?.kind === 'stats') main = <StatsView stats={snapshot.stats} width={ui.size.columns} height={height} />;
  else if (dialog?.kind === 'diagnostics') main = <Diagnostics findings={findings} selected={clamp(dialog.selected, 0, Math.max(0, findings.length - 1))} width={ui.size.columns} height={height} />;
  else if (ui.drawer !== null && detail) main = <Drawer detail={detail} logTail={snapshot.logTail} width={ui.size.columns} height={height} now={now} scroll={ui.drawerScroll} />;
  else main = <Board columns={board.columns} geometry={geometry} active={active.status} now={now} limits={limits} flags={flags} marks={ui.marks} />;

  let bottom;
  if (dialog?.kind === 'prompt') bottom = <Prompt label={dialog.label} value={dialog.value} cursor={dialog.cursor} hint={dialog.hint} width={ui.size.columns} />;
  else if (dialog?.kind === 'confirm') bottom = <Text color={tint('yellow')} wrap="truncate">{dialog.message}</Text>;
  else bottom = <Footer keys={keysLine} width={ui.size.columns} />;

  return (
    <Box flexDirection="column" width={ui.size.columns} height={frameHeight(ui.size)}>
      <Header board={boardName} dispatcher={dispatcher.state()} running={board.counts.running} now={now} width={ui.size.columns} filter={ui.filter} attention={flags.size} marked={ui.marks.size} hosts={snapshot.hosts} />
      <Box height={height} flexDirection="column">
        {main}
      </Box>
      <StatusLine text={ui.status.text} tone={ui.status.tone} width={ui.size.columns} />
      {bottom}
    </Box>
  );
}
