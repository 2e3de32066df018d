import { Box, Text, useApp, useInput, useStdout, type Key } from 'ink';
import { useEffect, useMemo, useReducer, useRef, useState } from 'react';
import { systemClock, type Clock } from '../clock.js';
import type { TickContext } from '../dispatcher/context.js';
import { describeTick } from '../dispatcher/describe.js';
import { errorMessage } from '../errors.js';
import { cleanLine } from '../sanitize.js';
import type { Settings } from '../settings.js';
import { BOARD_COLUMNS } from '../store/board.js';
import type { Store } from '../store/db.js';
import { getTask, showTask } from '../store/tasks.js';
import type { Status } from '../store/types.js';
import { readLogTail, taskLogPath } from '../workers/runlog.js';
import type { Finding, Severity } from '../diagnostics/rules.js';
import { actions, bulk, type Outcome } from './actions.js';
import { Board } from './Board.js';
import { idAt, loadBoard, type Cursor } from './board-view.js';
import { Footer, Header, StatusLine } from './Chrome.js';
import type { DispatcherHandle } from './dispatcher.js';
import { Diagnostics } from './Diagnostics.js';
import { Drawer } from './Drawer.js';
import { Help } from './Help.js';
import { boardCommand, keysFor, type Command } from './keymap.js';
import { cardsPerColumn, clamp, columnFit, frameHeight, windowStart, type Size } from './layout.js';
import { Prompt } from './Prompt.js';
import { markChange } from './timing.js';
import { BoardWatcher } from './watch.js';
import { tint } from './color.js';

type PromptPurpose = 'schedule' | 'block' | 'request-changes' | 'assign' | 'filter' | 'create-title' | 'create-assignee';
type Dialog =
  | { kind: 'prompt'; purpose: PromptPurpose; label: string; value: string; taskIds?: string[]; title?: string }
  | { kind: 'confirm'; purpose: 'complete' | 'force-promote' | 'quit'; message: string; taskIds?: string[] }
  | { kind: 'help' }
  | { kind: 'diagnostics'; selected: number };

interface StatusMessage {
  text: string;
  tone: 'ok' | 'error' | 'info';
  at: number;
  fromTick: boolean;
}

/** A person's message stays at least this long before a tick's replaces it. */
const KEEP_MESSAGE_MS = 5000;
/** No special key: for keys handled after the one they arrived with. */
const NO_KEY = {} as Key;
const LOG_TAIL_LINES = 60;

export interface AppProps {
  store: Store;
  boardName: string;
  dispatcher: DispatcherHandle;
  /** A fresh context for an action: the time now, the settings in force, the killer. */
  context: () => TickContext;
  settings: () => Settings;
  clock?: Clock;
  /** Fixed size (tests); otherwise the terminal's, following resizes. */
  size?: Size;
  /** Watch the file for other processes' changes (off in component tests). */
  watch?: boolean;
  /** The board's diagnostics (kanban diagnostics), run in the background every few seconds. */
  diagnose?: () => Finding[];
}

/** Diagnostics cost tens of ms on a big board: run every few seconds and soon after a change, never in a frame. */
function useFindings(diagnose: (() => Finding[]) | undefined, version: number): Finding[] {
  const [findings, setFindings] = useState<Finding[]>([]);
  const run = useRef(() => {});
  run.current = () => {
    if (!diagnose) return;
    try {
      setFindings(diagnose());
    } catch {
      // a busy or broken moment: keep the last findings, try again on the next round
    }
  };
  useEffect(() => {
    run.current();
    const timer = setInterval(() => run.current(), 2000);
    return () => clearInterval(timer);
  }, []);
  useEffect(() => {
    const timer = setTimeout(() => run.current(), 250);
    return () => clearTimeout(timer);
  }, [version]);
  return findings;
}

function useTerminalSize(fixed?: Size): Size {
  const { stdout } = useStdout();
  const read = () => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
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

function useNow(clock: Clock): number {
  const [now, setNow] = useState(() => clock.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(clock.now()), 1000);
    return () => clearInterval(timer);
  }, [clock]);
  return now;
}

/**
 * The board: columns of cards, a details drawer, prompts, and the dispatcher's state. It holds no
 * task state of its own: everything it shows is read through store queries, again whenever the file
 * changes, and everything it does goes through the store's transitions.
 */
export function App({ store, boardName, dispatcher, context, settings, clock = systemClock, size: fixedSize, watch = true, diagnose }: AppProps) {
  const { exit } = useApp();
  const size = useTerminalSize(fixedSize);
  const now = useNow(clock);
  const [version, bump] = useReducer((n: number) => n + 1, 0);
  const [column, setColumn] = useState<Status>('ready');
  const [cursors, setCursors] = useState<Partial<Record<Status, Cursor>>>({});
  const [filter, setFilter] = useState('');
  const [showArchived, setShowArchived] = useState(false);
  const [drawer, setDrawer] = useState<string | null>(null);
  // The key handler reads the dialog from a ref set the moment it changes: a key typed ahead must go to
  // the prompt the previous key opened, even before React has rendered that prompt.
  const [dialog, setDialogState] = useState<Dialog | null>(null);
  const dialogNow = useRef<Dialog | null>(null);
  const setDialog = (next: Dialog | null) => {
    dialogNow.current = next;
    setDialogState(next);
  };
  const [status, setStatus] = useState<StatusMessage>({ text: 'press ? for help', tone: 'info', at: 0, fromTick: false });
  const [logTail, setLogTail] = useState<string[]>([]);
  const [marks, setMarks] = useState<ReadonlySet<string>>(new Set());
  const findings = useFindings(diagnose, version);
  const flags = useMemo(() => {
    const worst = new Map<string, Severity>();
    for (const f of findings) if (!worst.has(f.task_id)) worst.set(f.task_id, f.severity); // most severe first
    return worst;
  }, [findings]);

  useEffect(
    () =>
      dispatcher.subscribe(() => {
        bump(); // the tick wrote through this same connection: data_version cannot tell us
        const state = dispatcher.state();
        // A problem (a config edit that does not validate, a failing tick) stays on the status line until it is fixed.
        const text = state.problem ?? (state.lastResult ? describeTick(state.lastResult) : '');
        const tone = state.problem ? 'error' : 'info';
        setStatus((old) => {
          if (!old.fromTick && clock.now() - old.at <= KEEP_MESSAGE_MS) return old;
          if (text) return { text, tone, at: clock.now(), fromTick: true };
          return old.fromTick && old.tone === 'error' ? { text: '', tone: 'info', at: clock.now(), fromTick: true } : old;
        });
      }),
    [dispatcher, clock],
  );

  const statuses: readonly Status[] = showArchived ? [...BOARD_COLUMNS, 'archived'] : BOARD_COLUMNS;
  const fit = columnFit(size, statuses.length);
  const start = windowStart(Math.max(0, statuses.indexOf(column)), fit.count, statuses.length);
  const visible = statuses.slice(start, start + fit.count);
  const perColumn = cardsPerColumn(size);
  const mainHeight = frameHeight(size) - 3;

  const board = useMemo(
    () => loadBoard(store, { statuses: visible, cursors, filter, perColumn }),
    [store, version, visible.join(), cursors, filter, perColumn],
  );
  // Started from the version of the first board read: nothing committed in between is missed.
  const firstVersion = useRef(board.version);
  useEffect(() => {
    if (!watch) return;
    const watcher = new BoardWatcher(
      store,
      () => {
        markChange();
        bump();
      },
      firstVersion.current,
    );
    return () => watcher.close();
  }, [store, watch]);

  const active = board.columns.find((c) => c.status === column) ?? board.columns[0]!;
  const selected = active.cards[active.index - active.offset] ?? null;
  const finding = dialog?.kind === 'diagnostics' ? findings[clamp(dialog.selected, 0, findings.length - 1)] : undefined;
  const targetId = finding?.task_id ?? drawer ?? selected?.id ?? null;

  const detail = useMemo(() => {
    if (drawer === null) return null;
    try {
      return showTask(store, drawer);
    } catch {
      return null;
    }
  }, [store, drawer, version]);

  useEffect(() => {
    if (drawer === null) return;
    const path = taskLogPath(store.path, drawer);
    const read = () => setLogTail(readLogTail(path, LOG_TAIL_LINES));
    read();
    const timer = setInterval(read, 500);
    return () => clearInterval(timer);
  }, [store, drawer]);

  const say = (text: string, tone: StatusMessage['tone'] = 'info') => setStatus({ text, tone, at: clock.now(), fromTick: false });

  const report = (outcome: Outcome) => {
    say(outcome.message, outcome.tone);
    bump();
  };

  const setCursor = (status: Status, cursor: Cursor) => setCursors((old) => ({ ...old, [status]: cursor }));

  const moveTo = (index: number) => {
    const target = clamp(index, 0, Math.max(0, active.count - 1));
    setCursor(active.status, { id: idAt(store, active.status, target, filter), index: target });
  };

  const selectTask = (task: { id: string; status: Status }) => {
    if (!statuses.includes(task.status)) return;
    setColumn(task.status);
    setCursor(task.status, { id: task.id, index: 0 });
  };

  const quit = () => exit();

  const withTarget = (run: (id: string) => void) => {
    if (targetId === null) say('no card selected', 'error');
    else run(targetId);
  };

  /** The marked cards when there are marks, else the card the command is about. */
  const withTargets = (run: (ids: string[]) => void) => {
    if (marks.size > 0) run([...marks]);
    else withTarget((id) => run([id]));
  };

  /** One action on the targets: one card says what happened to it; several, what happened to each. */
  const onEach = (ids: readonly string[], verb: string, action: (id: string) => Outcome) => {
    report(ids.length === 1 ? action(ids[0]!) : bulk(ids, verb, action));
    if (ids.length > 1 || marks.size > 0) setMarks(new Set());
  };

  const describeTargets = (ids: readonly string[]) => (ids.length === 1 ? ids[0]! : `${ids.length} marked tasks`);

  const run = (command: Command) => {
    try {
      perform(command);
    } catch (err) {
      say(`error: ${cleanLine(errorMessage(err))}`, 'error'); // the board stays up, whatever happens
    }
  };

  const perform = (command: Command) => {
    switch (command.type) {
      case 'move':
        if (command.columns !== 0) {
          const next = clamp(statuses.indexOf(column) + command.columns, 0, statuses.length - 1);
          setColumn(statuses[next]!);
          setDrawer(null);
        } else moveTo(active.index + command.cards);
        return;
      case 'first':
        return moveTo(0);
      case 'last':
        return moveTo(active.count - 1);
      case 'open':
        if (selected) setDrawer(selected.id);
        return;
      case 'back':
        if (drawer !== null) setDrawer(null);
        else if (filter !== '') {
          setFilter('');
          say('filter cleared');
        } else if (marks.size > 0) {
          setMarks(new Set());
          say('marks cleared');
        }
        return;
      case 'mark':
        return withTarget((id) => {
          const next = new Set(marks);
          if (!next.delete(id)) next.add(id);
          setMarks(next);
          say(`${next.size} marked: r u p s x act on every marked card, Esc clears the marks`);
        });
      case 'diagnostics':
        return setDialog({ kind: 'diagnostics', selected: 0 });
      case 'reclaim':
        return withTargets((ids) => onEach(ids, 'reclaimed', (id) => actions.reclaim(context(), id)));
      case 'unblock':
        return withTargets((ids) => onEach(ids, 'unblocked', (id) => actions.unblock(context(), id)));
      case 'reopen':
        return withTargets((ids) => onEach(ids, 'reopened', (id) => actions.reopen(context(), id)));
      case 'promote':
        if (!command.force) return withTargets((ids) => onEach(ids, 'promoted', (id) => actions.promote(context(), id, false)));
        return withTargets((ids) =>
          setDialog({ kind: 'confirm', purpose: 'force-promote', taskIds: ids, message: `promote ${describeTargets(ids)} past ${ids.length === 1 ? 'its' : 'their'} unfinished parents? (y/n)` }),
        );
      case 'complete':
        return withTargets((ids) => setDialog({ kind: 'confirm', purpose: 'complete', taskIds: ids, message: `complete ${describeTargets(ids)}? (y/n)` }));
      case 'schedule':
        return withTargets((ids) =>
          setDialog({ kind: 'prompt', purpose: 'schedule', taskIds: ids, label: `schedule ${describeTargets(ids)} for (90s, 2h, 1d or 2026-12-01T09:00):`, value: '' }),
        );
      case 'block':
        return withTarget((id) => setDialog({ kind: 'prompt', purpose: 'block', taskIds: [id], label: `block ${id} because:`, value: '' }));
      case 'assign':
        return withTarget((id) => setDialog({ kind: 'prompt', purpose: 'assign', taskIds: [id], label: `assign ${id} to (a profile, empty for nobody):`, value: '' }));
      case 'approve':
        return withTarget((id) => report(actions.approve(context(), id)));
      case 'request-changes':
        return withTarget((id) => setDialog({ kind: 'prompt', purpose: 'request-changes', taskIds: [id], label: `what should change in ${id}? (the next run is handed it)`, value: '' }));
      case 'create':
        return setDialog({ kind: 'prompt', purpose: 'create-title', label: 'new task title:', value: '' });
      case 'filter':
        return setDialog({ kind: 'prompt', purpose: 'filter', label: 'filter (title or assignee; Enter keeps, Esc clears):', value: '' });
      case 'toggle-dispatcher':
        if (!dispatcher.togglePause()) return say('the dispatcher is off (--no-dispatch)', 'error');
        return say(dispatcher.state().paused ? 'dispatcher paused: no claims, no reaping until resumed' : 'dispatcher resumed');
      case 'tick':
        if (!dispatcher.tickNow()) return say('the dispatcher is off (--no-dispatch)', 'error');
        return say('ticking now');
      case 'toggle-archived':
        setShowArchived((shown) => !shown);
        if (showArchived && column === 'archived') setColumn('done');
        return;
      case 'help':
        return setDialog({ kind: 'help' });
      case 'quit': {
        const running = board.counts.running;
        if (command.now || running === 0) return quit();
        return setDialog({
          kind: 'confirm',
          purpose: 'quit',
          message: `${running} task${running === 1 ? ' is' : 's are'} running: quitting leaves the worker${running === 1 ? '' : 's'} running (the next dispatcher adopts them). Quit? (y/n)`,
        });
      }
    }
  };

  const confirm = (d: Extract<Dialog, { kind: 'confirm' }>) => {
    setDialog(null);
    if (d.purpose === 'quit') return quit();
    if (d.purpose === 'complete') return onEach(d.taskIds!, 'completed', (id) => actions.complete(context(), id));
    return onEach(d.taskIds!, 'promoted', (id) => actions.promote(context(), id, true));
  };

  const submit = (d: Extract<Dialog, { kind: 'prompt' }>) => {
    setDialog(null);
    const ctx = context();
    switch (d.purpose) {
      case 'schedule':
        return onEach(d.taskIds!, 'scheduled', (id) => actions.schedule(ctx, id, d.value));
      case 'block':
        return report(actions.block(ctx, d.taskIds![0]!, d.value));
      case 'request-changes':
        return report(actions.requestChanges(ctx, d.taskIds![0]!, d.value));
      case 'assign':
        return report(actions.assign(ctx, d.taskIds![0]!, d.value));
      case 'filter': {
        setFilter(d.value);
        if (d.value === '') return say('filter cleared');
        const matches = loadBoard(store, { statuses, cursors: {}, filter: d.value, perColumn: 1 });
        const first = matches.columns.find((c) => c.count > 0);
        if (first) {
          setColumn(first.status);
          setCursor(first.status, { id: first.cards[0]!.id, index: 0 });
        }
        const total = matches.columns.reduce((sum, c) => sum + c.count, 0);
        return say(`filter "${d.value}": ${total} match${total === 1 ? '' : 'es'}`, total === 0 ? 'error' : 'ok');
      }
      case 'create-title':
        if (d.value.trim() === '') return say('a task needs a title', 'error');
        return setDialog({ kind: 'prompt', purpose: 'create-assignee', title: d.value, label: `assignee for "${d.value}" (optional, Enter to skip):`, value: '' });
      case 'create-assignee': {
        const outcome = actions.create(ctx, d.title!, d.value);
        report(outcome);
        if (outcome.task) selectTask(outcome.task);
        return;
      }
    }
  };

  const typeInto = (d: Extract<Dialog, { kind: 'prompt' }>, input: string, key: Key) => {
    if (key.return) return submit(d);
    if (key.escape) {
      setDialog(null);
      if (d.purpose === 'filter') {
        setFilter('');
        say('filter cleared');
      }
      return;
    }
    const edit = (value: string) => {
      setDialog({ ...d, value });
      if (d.purpose === 'filter') setFilter(value); // the filter follows as it is typed
    };
    if (key.backspace || key.delete || key.ctrl || key.meta) return edit(key.backspace || key.delete ? [...d.value].slice(0, -1).join('') : d.value);
    // Text typed ahead or pasted can carry its Enter: what comes before it is submitted, the rest handled next.
    const enter = input.indexOf('\r');
    const value = d.value + cleanLine(enter === -1 ? input : input.slice(0, enter));
    if (enter === -1) return edit(value);
    submit({ ...d, value });
    later(input.slice(enter + 1));
  };

  /** Queues keys that arrived with the previous one: handled after the board has re-rendered for it. */
  const later = (rest: string) => {
    if (rest === '') return;
    pending.current.push({ input: rest, key: NO_KEY });
    wake();
  };

  /** The diagnostics list: move, go to the card, close; the fix keys act on the finding's task. */
  const onDiagnosticsKey = (d: Extract<Dialog, { kind: 'diagnostics' }>, input: string, key: Key) => {
    const command = boardCommand(input, key);
    if (command?.type === 'move' && command.cards !== 0) return setDialog({ ...d, selected: clamp(d.selected + command.cards, 0, Math.max(0, findings.length - 1)) });
    if (command?.type === 'first' || command?.type === 'last') return setDialog({ ...d, selected: command.type === 'first' ? 0 : Math.max(0, findings.length - 1) });
    if (command?.type === 'back' || command?.type === 'diagnostics') return setDialog(null);
    if (command?.type === 'open') {
      setDialog(null);
      if (!finding) return;
      if (finding.task_id === 'board') return say(finding.reason, 'error'); // about the board's disk, not a card
      try {
        selectTask(getTask(store, finding.task_id));
      } catch {
        say(`${finding.task_id} is gone`, 'error');
      }
      return;
    }
    if (command && command.type !== 'move') run(command);
  };

  const onKey = (input: string, key: Key) => {
    const dialog = dialogNow.current;
    if (dialog?.kind === 'help') return setDialog(null);
    if (dialog?.kind === 'diagnostics') return onDiagnosticsKey(dialog, input, key);
    if (dialog?.kind === 'confirm') {
      const [first = '', ...rest] = [...input];
      // Only y says yes: Enter, pressed out of habit, would complete, force or quit unasked.
      if (key.return) return say('y to confirm, n or Esc to cancel');
      if (first === 'y' || first === 'Y') confirm(dialog);
      else if (first === 'n' || first === 'N' || key.escape || (key.ctrl && first === 'c')) {
        setDialog(null);
        say('cancelled');
      } else return;
      return later(rest.join(''));
    }
    if (dialog?.kind === 'prompt') return typeInto(dialog, input, key);
    const [first = '', ...rest] = [...input];
    const command = boardCommand(first, key);
    // Keys typed faster than a frame arrive together ("jjj"): a run of one movement key moves that far.
    if (command?.type === 'move' && rest.length > 0 && rest.every((c) => c === first)) {
      return run({ ...command, columns: command.columns * (rest.length + 1), cards: command.cards * (rest.length + 1) });
    }
    if (command) run(command);
    if (!key.ctrl && !key.meta) later(rest.join(''));
  };
  // Ink subscribes useInput's handler in an effect, which can run after the next key arrives; a
  // stable handler that calls this render's one means a key always sees the state the last one left.
  const latestOnKey = useRef(onKey);
  latestOnKey.current = onKey;
  // Keys typed ahead wait here and are handled one per commit, in order: a key that arrives while
  // some wait (Enter and Esc too: an Enter must not submit a prompt before the text typed ahead of
  // it) joins the queue rather than jumping it. Only Ctrl keys (Ctrl+C) act at once.
  const pending = useRef<Array<{ input: string; key: Key }>>([]);
  const [, wake] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    const [next, ...waiting] = pending.current;
    if (!next) return;
    pending.current = [];
    latestOnKey.current(next.input, next.key);
    pending.current.push(...waiting); // after what that key left for later
    if (pending.current.length > 0) wake();
  });
  useInput((input, key) => {
    if (pending.current.length === 0 || key.ctrl) return latestOnKey.current(input, key);
    pending.current.push({ input, key });
    wake();
  });

  const dispatcherState = dispatcher.state();
  const thresholds = { claimTtlMs: settings().claimTtlSeconds * 1000, heartbeatMaxStaleMs: settings().heartbeatMaxStaleSeconds * 1000 };
  const selectedStatus = drawer !== null ? (detail?.task.status ?? null) : (selected?.status ?? null);
  const keysLine = marks.size > 0 ? `${marks.size} marked · r u p s x act on all of them · v unmark · Esc clears the marks` : keysFor(selectedStatus);

  let main;
  if (dialog?.kind === 'help') main = <Help height={mainHeight} width={size.columns} />;
  else if (dialog?.kind === 'diagnostics') main = <Diagnostics findings={findings} selected={clamp(dialog.selected, 0, Math.max(0, findings.length - 1))} width={size.columns} height={mainHeight} />;
  else if (drawer !== null && detail) main = <Drawer detail={detail} logTail={logTail} width={size.columns} height={mainHeight} now={now} />;
  else main = <Board columns={board.columns} active={active.status} width={fit.width} perColumn={perColumn} now={now} limits={thresholds} flags={flags} marks={marks} />;

  let bottom;
  if (dialog?.kind === 'prompt') bottom = <Prompt label={dialog.label} value={dialog.value} width={size.columns} />;
  else if (dialog?.kind === 'confirm') bottom = <Text color={tint('yellow')} wrap="truncate">{dialog.message}</Text>;
  else bottom = <Footer keys={keysLine} width={size.columns} />;

  return (
    <Box flexDirection="column" width={size.columns} height={frameHeight(size)}>
      <Header
        board={boardName}
        dispatcher={dispatcherState}
        running={board.counts.running}
        now={now}
        width={size.columns}
        hidden={{ left: start, right: statuses.length - start - visible.length }}
        filter={filter}
        attention={flags.size}
        marked={marks.size}
      />
      <Box height={mainHeight} flexDirection="column">
        {main}
      </Box>
      <StatusLine text={status.text} tone={status.tone} width={size.columns} />
      {bottom}
    </Box>
  );
}
