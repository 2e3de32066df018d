import type { Clock } from '../clock.js';
import type { TickContext } from '../dispatcher/context.js';
import { describeTick } from '../dispatcher/describe.js';
import { errorMessage } from '../errors.js';
import { cleanLine } from '../sanitize.js';
import { BOARD_COLUMNS, COLUMN_SORTS, type ColumnSort } from '../core/types.js';
import type { Status } from '../core/types.js';
import { actions, bulk, type Outcome } from './actions.js';
import type { Cursor } from '../core/types.js';
import { DEFAULT_KEYMAP, whyNot, type CommandId, type CommandSpec, type Keymap } from './commands.js';
import type { DispatcherHandle } from './dispatcher.js';
import { parseMouse, pressesOf, type InkKey, type MouseEvent, type Press } from './keys.js';
import type { Size } from './layout.js';
import { clamp } from '../core/window.js';
import { editLine, emptyLine, type LineState } from './line-edit.js';
import type { BoardModel, Snapshot } from './model.js';
import { boardGeometry, FIRST_COLUMN, hitTest, perColumnFor, type BoardGeometry } from './geometry.js';
import { completeCommandLine, completeWord, parseCommandLine } from './command-line.js';

export type PromptPurpose = 'schedule' | 'block' | 'request-changes' | 'assign' | 'filter' | 'create-title' | 'create-assignee' | 'comment' | 'command' | 'link' | 'unlink';

export type Dialog =
  | ({ kind: 'prompt'; purpose: PromptPurpose; label: string; taskIds?: string[]; title?: string; hint?: string } & LineState)
  | { kind: 'confirm'; purpose: 'complete' | 'force-promote' | 'quit'; message: string; taskIds?: string[] }
  | { kind: 'help' }
  | { kind: 'stats' }
  | { kind: 'diagnostics'; selected: number };

export interface StatusMessage {
  text: string;
  tone: 'ok' | 'error' | 'info';
  at: number;
  fromTick: boolean;
}

/** The screen's own state: where the cursor is, what is open. The board's data is the model's. */
export interface UiState {
  size: Size;
  column: Status;
  cursors: Partial<Record<Status, Cursor>>;
  filter: string;
  showArchived: boolean;
  drawer: string | null;
  /** Lines the drawer is scrolled down by. */
  drawerScroll: number;
  dialog: Dialog | null;
  marks: ReadonlySet<string>;
  /** A column's order when not its own (`O`). */
  sorts: Partial<Record<Status, ColumnSort>>;
  status: StatusMessage;
}

/** What a frame draws: the screen's state, the board's snapshot, and where everything goes. */
export interface View {
  ui: UiState;
  snapshot: Snapshot;
  geometry: BoardGeometry;
  now: number;
}

export interface ControllerDeps {
  model: BoardModel;
  dispatcher: DispatcherHandle;
  /** A fresh context for an action: the time now, the settings in force, the killer. */
  context: () => TickContext;
  /** The config's profile names, for `a` and `:assign`. */
  profiles: () => readonly string[];
  clock: Clock;
  exit: () => void;
  /** Rings the terminal's bell (`--bell`): a task came to need a person (blocked, review). */
  bell?: () => void;
  /** Hands text to $EDITOR with the screen suspended; the text it left, or null when it failed. */
  edit?: (text: string) => string | null;
  /** Puts text on the clipboard (OSC 52). */
  copy?: (text: string) => void;
  /** Ctrl-Z: gives the terminal back and stops, until `fg`. */
  suspend?: () => void;
  /** The keys (the command table with the config's `keys:`); the defaults when absent. */
  keymap?: Keymap;
}

/** A person's message stays at least this long before a tick's replaces it. */
const KEEP_MESSAGE_MS = 5000;

/**
 * The board's input and state: every key is handled here, in order, against the state the last
 * one left (never against a frame that has not been drawn yet), by the topmost layer that wants it:
 * a confirmation, a prompt, help, diagnostics, the drawer, the board. Actions go through the same
 * store transitions as the CLI. The screen subscribes and draws `view()`.
 */
export class BoardController {
  private ui: UiState;
  readonly keymap: Keymap;
  private current: View;
  private readonly listeners = new Set<() => void>();
  private readonly unsubscribe: Array<() => void> = [];
  private clockTimer: NodeJS.Timeout | undefined;
  /** Draws the whole frame again (the screen was lent to an editor or stopped): set by the screen. */
  repaint: () => void = () => {};
  /** Tasks blocked or in review as last seen, and when this board last acted itself (its own changes ring no bell). */
  private needPerson = 0;
  private actedAt = -Infinity;
  /** The end of the last action asked for: actions run one at a time, in order. */
  private acting: Promise<void> = Promise.resolve();
  /** Keys and clicks not handled yet, and whether they are being handled. */
  private readonly pending: Array<() => void | Promise<void>> = [];
  private pumping = false;

  constructor(
    private readonly deps: ControllerDeps,
    size: Size,
  ) {
    this.keymap = deps.keymap ?? DEFAULT_KEYMAP;
    this.ui = {
      size,
      column: FIRST_COLUMN,
      cursors: {},
      filter: '',
      showArchived: false,
      drawer: null,
      drawerScroll: 0,
      dialog: null,
      marks: new Set(),
      sorts: {},
      status: { text: deps.profiles().length === 0 ? 'no profiles in the config yet: kanban config init writes a starter one · ? for help' : 'press ? for help', tone: 'info', at: 0, fromTick: false },
    };
    // The model was opened for this size (firstPerColumn): read again only if the window differs.
    if (this.query().perColumn !== deps.model.perColumn()) deps.model.setQuery(this.query());
    this.current = this.build();
  }

  // ——— the screen's side ———

  view = (): View => this.current;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  start(watch: boolean): void {
    this.needPerson = this.countNeedingPerson();
    this.unsubscribe.push(
      this.deps.model.subscribe(() => {
        // The model found the card at each cursor's place: the cursor follows that card from now on.
        const cursors = this.deps.model.cursors();
        if (!sameCursors(cursors, this.ui.cursors)) this.ui = { ...this.ui, cursors };
        this.ringIfNeeded();
        this.changed();
      }),
    );
    this.unsubscribe.push(this.deps.dispatcher.subscribe(() => this.onTick()));
    this.deps.model.start(watch);
    this.clockTimer = setInterval(() => this.changed(), 1000);
  }

  stop(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    this.deps.model.stop();
    clearInterval(this.clockTimer);
  }

  resize(size: Size): void {
    if (size.columns === this.ui.size.columns && size.rows === this.ui.size.rows) return;
    this.set({ size });
  }

  /** Ink's input: a mouse report, or keys (several at once when they arrived in one read). */
  input(input: string, key: InkKey): void {
    const mouse = parseMouse(input);
    if (mouse) this.pending.push(() => this.onMouse(mouse));
    else for (const press of pressesOf(input, key)) this.pending.push(() => this.onPress(press));
    void this.pump();
  }

  /**
   * Handles the keys in order, one at a time, each once the reads and actions the one before it
   * started have ended: a key acts on the state the last one left, never on a snapshot still being read.
   * A key for an open prompt edits its line, which no read changes: it waits for actions only, not
   * for the board to be read again (a filter typed on a large board would otherwise wait for a read per key).
   */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (let handle = this.pending.shift(); handle; handle = this.pending.shift()) {
        await this.guard(handle);
        if (this.ui.dialog?.kind === 'prompt') await this.acting;
        else await this.settled();
      }
    } finally {
      this.pumping = false;
    }
  }

  // ——— state ———

  private statuses(): readonly Status[] {
    return this.ui.showArchived ? [...BOARD_COLUMNS, 'archived'] : BOARD_COLUMNS;
  }

  /** Where the cursor's column stands among the columns shown. */
  private activeIndex(): number {
    return Math.max(0, this.statuses().indexOf(this.ui.column));
  }

  private query() {
    const statuses = this.statuses();
    const counts = this.deps.model.snapshot().board.counts;
    const perColumn = perColumnFor(this.ui.size, statuses.map((s) => counts[s]), this.activeIndex());
    return { statuses, cursors: this.ui.cursors, filter: this.ui.filter, perColumn, drawer: this.ui.drawer, sorts: this.ui.sorts };
  }

  /** Changes the screen's state; a change to what is read reads the board again, at once. */
  private set(patch: Partial<UiState>): void {
    const before = this.ui;
    this.ui = { ...before, ...patch };
    const read = ['column', 'cursors', 'filter', 'showArchived', 'drawer', 'size', 'sorts'] as const;
    if (!read.some((k) => before[k] !== this.ui[k])) return this.changed();
    this.deps.model.setQuery(this.query()); // read in the background: the next key waits for it
    this.changed();
  }

  private changed(): void {
    // Counts changed by another process can change how many cards fit: read again with that window.
    const query = this.query();
    if (query.perColumn !== this.deps.model.perColumn()) return this.deps.model.setQuery(query);
    this.current = this.build();
    for (const listener of this.listeners) listener();
  }

  private build(): View {
    const snapshot = this.deps.model.snapshot();
    const geometry = boardGeometry(this.ui.size, snapshot.board.columns, this.activeIndex());
    return { ui: this.ui, snapshot, geometry, now: this.deps.clock.now() };
  }

  private say(text: string, tone: StatusMessage['tone'] = 'info'): void {
    this.set({ status: { text, tone, at: this.deps.clock.now(), fromTick: false } });
  }

  private onTick(): void {
    const state = this.deps.dispatcher.state();
    // A problem (a config edit that does not validate, a failing tick) stays on the status line until it is fixed.
    const text = state.problem ?? (state.lastResult ? describeTick(state.lastResult) : '');
    const old = this.ui.status;
    const now = this.deps.clock.now();
    let status = old;
    if (!old.fromTick && now - old.at <= KEEP_MESSAGE_MS) status = old;
    else if (text) status = { text, tone: state.problem ? 'error' : 'info', at: now, fromTick: true };
    else if (old.fromTick && old.tone === 'error') status = { text: '', tone: 'info', at: now, fromTick: true };
    this.ui = { ...this.ui, status };
    this.deps.model.reload(); // the tick wrote through this same connection: data_version cannot tell
  }

  private countNeedingPerson(): number {
    const counts = this.deps.model.snapshot().board.counts;
    return counts.blocked + counts.review;
  }

  /** A task came to need a person, by another process or the dispatcher (not this board's own key): the bell. */
  private ringIfNeeded(): void {
    const now = this.countNeedingPerson();
    if (now > this.needPerson && this.deps.clock.now() - this.actedAt > 1000) this.deps.bell?.();
    this.needPerson = now;
  }

  /** Whatever a key does, the board stays up: an error is a status line. */
  private async guard(run: () => void | Promise<void>): Promise<void> {
    try {
      await run();
    } catch (err) {
      this.say(`error: ${cleanLine(errorMessage(err))}`, 'error');
    }
  }

  // ——— what the cursor is on ———

  private activeColumn() {
    const columns = this.deps.model.snapshot().board.columns;
    return columns.find((c) => c.status === this.ui.column) ?? columns[0]!;
  }

  private selectedCard() {
    const active = this.activeColumn();
    return active.cards[active.index - active.offset] ?? null;
  }

  /** The task a card command is about: the drawer's, else the selected card's. */
  private target(): { id: string; status: Status } | null {
    if (this.ui.drawer !== null) {
      const detail = this.deps.model.snapshot().detail;
      return detail ? { id: detail.task.id, status: detail.task.status } : null;
    }
    const card = this.selectedCard();
    return card ? { id: card.id, status: card.status } : null;
  }

  // ——— keys, by layer ———

  private onPress(press: Press): void | Promise<void> {
    if (press.ctrl && press.name === 'c') return this.deps.exit();
    const dialog = this.ui.dialog;
    if (dialog?.kind === 'confirm') return this.onConfirmKey(dialog, press);
    if (dialog?.kind === 'prompt') return this.onPromptKey(dialog, press);
    if (dialog?.kind === 'help') return this.set({ dialog: null });
    if (dialog?.kind === 'stats') {
      this.deps.model.showStats(false);
      return this.set({ dialog: null });
    }
    if (dialog?.kind === 'diagnostics') return this.onDiagnosticsKey(dialog, press);
    if (this.ui.drawer !== null && this.deps.model.snapshot().detail === null) this.set({ drawer: null, drawerScroll: 0 }); // its task is gone
    if (this.ui.drawer !== null && this.onDrawerKey(press)) return;
    if (press.meta) return;
    const spec = this.keymap.forKey(press.ctrl ? `ctrl+${press.name}` : press.name);
    if (spec) return this.run(spec);
  }

  private onConfirmKey(dialog: Extract<Dialog, { kind: 'confirm' }>, press: Press): void {
    // Only y says yes: Enter, pressed out of habit, would complete, force or quit unasked.
    if (press.name === 'enter') return this.say('y to confirm, n or Esc to cancel');
    if (press.name === 'y' || press.name === 'Y') return this.confirm(dialog);
    if (press.name === 'n' || press.name === 'N' || press.name === 'esc') {
      this.set({ dialog: null });
      this.say('cancelled');
    }
  }

  private onPromptKey(dialog: Extract<Dialog, { kind: 'prompt' }>, press: Press): void | Promise<void> {
    if (press.name === 'enter') return this.submit(dialog);
    if (press.name === 'esc') {
      this.set({ dialog: null });
      if (dialog.purpose === 'filter') this.setFilter('', 'filter cleared');
      return;
    }
    if (press.name === 'tab') return this.complete(dialog);
    const line = editLine(dialog, press);
    if (line === null) return;
    this.set({ dialog: { ...dialog, ...line } });
    if (dialog.purpose === 'filter') this.set({ filter: line.value }); // the filter follows as it is typed
  }

  private async onDiagnosticsKey(dialog: Extract<Dialog, { kind: 'diagnostics' }>, press: Press): Promise<void> {
    const findings = this.deps.model.snapshot().findings;
    const last = Math.max(0, findings.length - 1);
    const spec = this.keymap.forKey(press.name);
    const step = listStep(spec?.id);
    if (step !== null) return this.set({ dialog: { ...dialog, selected: clamp(step === 'first' ? 0 : step === 'last' ? last : dialog.selected + step, 0, last) } });
    switch (spec?.id) {
      case 'back':
      case 'diagnostics':
        return this.set({ dialog: null });
      case 'open': {
        const finding = findings[clamp(dialog.selected, 0, last)];
        this.set({ dialog: null });
        if (!finding) return;
        if (finding.task_id === 'board') return this.say(finding.reason, 'error'); // about the board's disk, not a card
        return this.jumpTo(finding.task_id);
      }
    }
    // The fix keys act on the finding's task.
    const finding = findings[clamp(dialog.selected, 0, last)];
    if (spec?.when && finding && finding.task_id !== 'board') return this.runOn(spec, [{ id: finding.task_id, status: await this.statusOf(finding.task_id) }]);
  }

  /** Keys the drawer takes before the board, by the same keymap: the card keys scroll it, back closes it. */
  private onDrawerKey(press: Press): boolean {
    const id = this.keymap.forKey(press.name)?.id;
    const step = listStep(id);
    if (step !== null && step !== 'last') {
      this.set({ drawerScroll: step === 'first' ? 0 : Math.max(0, this.ui.drawerScroll + step) });
      return true;
    }
    if (id !== 'back') return false;
    this.set({ drawer: null, drawerScroll: 0 });
    return true;
  }

  private onMouse(mouse: MouseEvent): void {
    if (this.ui.dialog !== null || mouse.release) return;
    if (mouse.button === 64 || mouse.button === 65) {
      const by = mouse.button === 64 ? -1 : 1;
      if (this.ui.drawer !== null) return this.set({ drawerScroll: Math.max(0, this.ui.drawerScroll + by * 3) });
      return this.moveCards(by);
    }
    if (mouse.button !== 0 || this.ui.drawer !== null) return;
    const hit = hitTest(this.current.geometry, this.deps.model.snapshot().board.columns, mouse.x - 1, mouse.y - 2);
    if (!hit) return;
    const column = this.deps.model.snapshot().board.columns.find((c) => c.status === hit.status)!;
    if (hit.card === null) return this.set({ column: hit.status });
    this.set({ column: hit.status, cursors: { ...this.ui.cursors, [hit.status]: { id: column.cards[hit.card - column.offset]?.id ?? null, index: hit.card } } });
  }

  // ——— commands ———

  private run(spec: CommandSpec): void | Promise<void> {
    if (spec.when) return this.runOnTargets(spec);
    switch (spec.id) {
      case 'column-left':
      case 'column-right': {
        const statuses = this.statuses();
        const next = clamp(statuses.indexOf(this.ui.column) + (spec.id === 'column-left' ? -1 : 1), 0, statuses.length - 1);
        return this.set({ column: statuses[next]!, drawer: null, drawerScroll: 0 });
      }
      case 'card-up':
      case 'card-down':
      case 'page-up':
      case 'page-down':
      case 'first':
      case 'last': {
        const step = listStep(spec.id)!;
        return this.moveTo(step === 'first' ? 0 : step === 'last' ? this.activeColumn().count - 1 : this.activeColumn().index + step);
      }
      case 'open': {
        const card = this.selectedCard();
        if (card) this.set({ drawer: card.id, drawerScroll: 0 });
        return;
      }
      case 'back':
        if (this.ui.filter !== '') return this.setFilter('', 'filter cleared');
        if (this.ui.marks.size > 0) {
          this.set({ marks: new Set() });
          return this.say('marks cleared');
        }
        return;
      case 'diagnostics':
        return this.set({ dialog: { kind: 'diagnostics', selected: 0 } });
      case 'create':
        return this.prompt('create-title', 'new task title:');
      case 'filter':
        return this.prompt('filter', 'filter (id, title or assignee; Enter keeps, Esc clears):');
      case 'command-line':
        return this.prompt('command', ':', { hint: 'a task id, or a command: assign, schedule, block, comment, filter, reclaim, … (Tab completes)' });
      case 'toggle-dispatcher':
        if (!this.deps.dispatcher.togglePause()) return this.say('the dispatcher is off (--no-dispatch)', 'error');
        return this.say(this.deps.dispatcher.state().paused ? 'dispatcher paused: no claims, no reaping until resumed' : 'dispatcher resumed');
      case 'tick':
        if (!this.deps.dispatcher.tickNow()) return this.say('the dispatcher is off (--no-dispatch)', 'error');
        return this.say('ticking now');
      case 'toggle-archived': {
        const showArchived = !this.ui.showArchived;
        return this.set({ showArchived, column: !showArchived && this.ui.column === 'archived' ? 'done' : this.ui.column });
      }
      case 'help':
        return this.set({ dialog: { kind: 'help' } });
      case 'sort': {
        const status = this.activeColumn().status;
        const next = COLUMN_SORTS[(COLUMN_SORTS.indexOf(this.ui.sorts[status] ?? 'column') + 1) % COLUMN_SORTS.length]!;
        this.set({ sorts: { ...this.ui.sorts, [status]: next }, cursors: { ...this.ui.cursors, [status]: { id: null, index: 0 } } });
        return this.say(`${status}: ${next === 'column' ? 'in its own order' : `by ${next === 'title' ? 'title' : `${next} first`}`} (O changes it)`);
      }
      case 'suspend':
        if (!this.deps.suspend) return this.say('cannot suspend here', 'error');
        this.deps.suspend();
        this.repaint();
        return this.changed();
      case 'stats':
        this.deps.model.showStats(true);
        return this.set({ dialog: { kind: 'stats' } });
      case 'quit': {
        const running = this.deps.model.snapshot().board.counts.running;
        if (running === 0) return this.deps.exit();
        return this.set({
          dialog: {
            kind: 'confirm',
            purpose: 'quit',
            message: `${running} task${running === 1 ? ' is' : 's are'} running: quitting leaves the worker${running === 1 ? '' : 's'} running (the next dispatcher adopts them). Quit? (y/n)`,
          },
        });
      }
    }
  }

  /** A card command: on the marked cards when it takes several and there are marks, else on the target. */
  private async runOnTargets(spec: CommandSpec): Promise<void> {
    if (spec.id === 'mark') return this.toggleMark();
    if (spec.bulk && this.ui.marks.size > 0) {
      const targets = [];
      for (const id of this.ui.marks) targets.push({ id, status: await this.statusOf(id) });
      return this.runOn(spec, targets);
    }
    const target = this.target();
    if (!target) return this.say('no card selected', 'error');
    this.runOn(spec, [target]);
  }

  private async statusOf(id: string): Promise<Status> {
    return (await this.deps.model.locate(id))?.status ?? 'archived';
  }

  private runOn(spec: CommandSpec, targets: Array<{ id: string; status: Status }>): void {
    // One card the command does not apply to: say why, from the table, without asking the store.
    const refusal = targets.length === 1 ? whyNot(spec, targets[0]!) : null;
    if (refusal) return this.say(refusal, 'error');
    const ids = targets.map((t) => t.id);
    const about = ids.length === 1 ? ids[0]! : `${ids.length} marked tasks`;
    switch (spec.id) {
      case 'reclaim':
        return this.onEach(ids, 'reclaimed', (id) => actions.reclaim(this.deps.context(), id));
      case 'unblock':
        return this.onEach(ids, 'unblocked', (id) => actions.unblock(this.deps.context(), id));
      case 'reopen':
        return this.onEach(ids, 'reopened', (id) => actions.reopen(this.deps.context(), id));
      case 'promote':
        return this.onEach(ids, 'promoted', (id) => actions.promote(this.deps.context(), id, false));
      case 'archive':
        return this.onEach(ids, 'archived', (id) => actions.archive(this.deps.context(), id));
      case 'approve':
        return this.onEach(ids, 'approved', (id) => actions.approve(this.deps.context(), id));
      case 'force-promote':
        return this.set({ dialog: { kind: 'confirm', purpose: 'force-promote', taskIds: ids, message: `promote ${about} past ${ids.length === 1 ? 'its' : 'their'} unfinished parents? (y/n)` } });
      case 'complete':
        return this.set({ dialog: { kind: 'confirm', purpose: 'complete', taskIds: ids, message: `complete ${about}? (y/n)` } });
      case 'schedule':
        return this.prompt('schedule', `schedule ${about} for (90s, 2h, 1d or 2026-12-01T09:00):`, { taskIds: ids });
      case 'block':
        return this.prompt('block', `block ${about} because:`, { taskIds: ids });
      case 'assign':
        return this.prompt('assign', `assign ${about} to`, { taskIds: ids, hint: this.profileHint() });
      case 'request-changes':
        return this.prompt('request-changes', `what should change in ${about}? (the next run is handed it)`, { taskIds: ids });
      case 'comment':
        return this.prompt('comment', `comment on ${about}:`, { taskIds: ids });
      case 'link':
        return this.prompt('link', `${about} waits on (a task id):`, { taskIds: ids });
      case 'unlink':
        return this.prompt('unlink', `${about} no longer waits on (a task id):`, { taskIds: ids });
      case 'copy-id':
        if (!this.deps.copy) return this.say('no clipboard here', 'error');
        this.deps.copy(ids.join(' '));
        return this.say(`copied ${ids.join(' ')}`, 'ok');
      case 'edit':
        return this.editInEditor(ids[0]!);
    }
  }

  /** `e`: the title and body in $EDITOR (the first line is the title); saved when changed. */
  private editInEditor(id: string): void {
    if (!this.deps.edit) return this.say('no editor here', 'error');
    const snapshot = this.deps.model.snapshot();
    const task = snapshot.detail?.task.id === id ? snapshot.detail.task : snapshot.board.columns.flatMap((c) => c.cards).find((c) => c.id === id);
    if (!task) return this.say(`${id} is not on screen`, 'error');
    const before = `${task.title}\n\n${task.body}`;
    const after = this.deps.edit(before);
    this.repaint();
    if (after === null) return this.say('the editor failed: nothing changed ($VISUAL, $EDITOR or vi)', 'error');
    if (after.trimEnd() === before.trimEnd()) return this.say(`${id}: no change`);
    this.onEach([id], 'edited', (taskId) => actions.edit(this.deps.context(), taskId, after));
  }

  private profileHint(): string {
    const profiles = this.deps.profiles();
    return profiles.length === 0 ? 'no profiles in the config: kanban config init writes one' : `${profiles.join(', ')}; Tab completes, empty for nobody`;
  }

  private prompt(purpose: PromptPurpose, label: string, extra: { taskIds?: string[]; title?: string; hint?: string } = {}): void {
    this.set({ dialog: { kind: 'prompt', purpose, label, ...extra, ...emptyLine } });
  }

  private toggleMark(): void {
    const target = this.target();
    if (!target) return this.say('no card selected', 'error');
    const marks = new Set(this.ui.marks);
    if (!marks.delete(target.id)) marks.add(target.id);
    this.set({ marks });
    this.say(`${marks.size} marked: r u p s x X act on every marked card, Esc clears the marks`);
  }

  /** One action on the targets: one card says what happened to it; several, what happened to each. */
  private onEach(ids: readonly string[], verb: string, action: (id: string) => Promise<Outcome>): void {
    if (ids.length > 1 || this.ui.marks.size > 0) this.ui = { ...this.ui, marks: new Set() };
    this.perform(() => (ids.length === 1 ? action(ids[0]!) : bulk(ids, verb, action)));
  }

  /**
   * Runs an action after those already asked for (one at a time, in the order of the keys), and
   * reports its outcome once it has ended; `then` follows the report (selecting what it made).
   */
  private perform(action: () => Promise<Outcome>, then?: (outcome: Outcome) => void): void {
    this.acting = this.acting
      .then(action)
      .then((outcome) => {
        this.report(outcome);
        then?.(outcome);
      })
      .catch((err: unknown) => this.report({ message: `error: ${cleanLine(errorMessage(err))}`, tone: 'error' }));
  }

  /** Resolves once every action asked for so far has ended and been reported, and the board read since. */
  async settled(): Promise<void> {
    await this.acting;
    await this.deps.model.idle();
  }

  private report(outcome: Outcome): void {
    this.actedAt = this.deps.clock.now();
    this.ui = { ...this.ui, status: { text: outcome.message, tone: outcome.tone, at: this.deps.clock.now(), fromTick: false } };
    this.deps.model.reload();
  }

  private confirm(dialog: Extract<Dialog, { kind: 'confirm' }>): void {
    this.set({ dialog: null });
    if (dialog.purpose === 'quit') return this.deps.exit();
    if (dialog.purpose === 'complete') return this.onEach(dialog.taskIds!, 'completed', (id) => actions.complete(this.deps.context(), id));
    return this.onEach(dialog.taskIds!, 'promoted', (id) => actions.promote(this.deps.context(), id, true));
  }

  private submit(dialog: Extract<Dialog, { kind: 'prompt' }>): void | Promise<void> {
    const value = dialog.value;
    const ids = dialog.taskIds ?? [];
    const ctx = () => this.deps.context();
    switch (dialog.purpose) {
      case 'assign': {
        const name = value.trim();
        const profiles = this.deps.profiles();
        if (!isKnownProfile(name, profiles)) return this.say(`no profile "${name}" in the config (profiles: ${profiles.join(', ')}); kanban edit ID --assignee ${name} --force assigns it anyway`, 'error');
        this.set({ dialog: null });
        return this.onEach(ids, 'assigned', (id) => actions.assign(ctx(), id, name));
      }
      case 'create-title':
        if (value.trim() === '') return this.say('a task needs a title', 'error');
        return this.prompt('create-assignee', `assignee for "${value}"`, { title: value, hint: this.profileHint().replace('empty for nobody', 'Enter to skip') });
      case 'create-assignee': {
        const name = value.trim();
        const profiles = this.deps.profiles();
        if (!isKnownProfile(name, profiles)) return this.say(`no profile "${name}" in the config (profiles: ${profiles.join(', ')})`, 'error');
        this.set({ dialog: null });
        return this.perform(
          () => actions.create(ctx(), dialog.title!, name),
          (outcome) => outcome.task && this.select(outcome.task),
        );
      }
    }
    this.set({ dialog: null });
    switch (dialog.purpose) {
      case 'schedule':
        return this.onEach(ids, 'scheduled', (id) => actions.schedule(ctx(), id, value));
      case 'block':
        return this.onEach(ids, 'blocked', (id) => actions.block(ctx(), id, value));
      case 'request-changes':
        return this.onEach(ids, 'sent back', (id) => actions.requestChanges(ctx(), id, value));
      case 'comment':
        if (value.trim() === '') return this.say('nothing to say: no comment added');
        return this.onEach(ids, 'commented on', (id) => actions.comment(ctx(), id, value));
      case 'link':
        return this.onEach(ids, 'linked', (id) => actions.link(ctx(), id, value));
      case 'unlink':
        return this.onEach(ids, 'unlinked', (id) => actions.unlink(ctx(), id, value));
      case 'filter':
        return this.applyFilter(value);
      case 'command':
        return this.runCommandLine(value);
    }
  }

  private complete(dialog: Extract<Dialog, { kind: 'prompt' }>): void {
    const completed =
      dialog.purpose === 'command'
        ? completeCommandLine(dialog.value, this.deps.profiles())
        : dialog.purpose === 'assign' || dialog.purpose === 'create-assignee'
          ? completeWord(dialog.value, this.deps.profiles())
          : null;
    if (completed === null) return;
    if (completed.choices.length > 1) this.say(completed.choices.join('  '));
    this.set({ dialog: { ...dialog, value: completed.value, cursor: [...completed.value].length } });
  }

  /** `:` — a task id jumps to it; a command name runs that command on the selected card (or the board). */
  private runCommandLine(text: string): void | Promise<void> {
    const parsed = parseCommandLine(text);
    if (parsed.kind === 'empty') return;
    if (parsed.kind === 'error') return this.say(parsed.message, 'error');
    if (parsed.kind === 'jump') return this.jumpTo(parsed.id);
    if (parsed.kind === 'filter') return this.applyFilter(parsed.text);
    const spec = this.keymap.command(parsed.id);
    if (parsed.argument === null || !spec.when) return this.run(spec);
    // A command that would prompt, with its answer given: run it as if typed into the prompt.
    const target = this.target();
    if (!target) return this.say('no card selected', 'error');
    const refusal = whyNot(spec, target);
    if (refusal) return this.say(refusal, 'error');
    const purpose = PROMPTED[parsed.id];
    if (!purpose) return this.say(`:${parsed.name} takes no argument`, 'error');
    return this.submit({ kind: 'prompt', purpose, label: '', taskIds: [target.id], value: parsed.argument, cursor: 0 });
  }

  private async applyFilter(value: string): Promise<void> {
    this.set({ filter: value });
    if (value === '') return this.say('filter cleared');
    await this.deps.model.idle(); // the columns as filtered
    const columns = this.deps.model.snapshot().board.columns;
    const first = columns.find((c) => c.count > 0);
    if (first) this.select({ id: first.cards[0]!.id, status: first.status });
    const total = columns.reduce((sum, c) => sum + c.count, 0);
    this.say(`filter "${value}": ${total} match${total === 1 ? '' : 'es'}`, total === 0 ? 'error' : 'ok');
  }

  private setFilter(filter: string, message: string): void {
    this.set({ filter });
    this.say(message);
  }

  private async jumpTo(id: string): Promise<void> {
    const task = await this.deps.model.locate(id);
    if (!task) return this.say(`no task ${id}`, 'error');
    if (task.status === 'archived' && !this.ui.showArchived) this.set({ showArchived: true });
    if (this.ui.filter !== '') this.set({ filter: '' });
    this.select(task);
    this.say(`${task.id}: ${task.status}`);
  }

  private select(task: { id: string; status: Status }): void {
    if (!this.statuses().includes(task.status)) return;
    this.set({ column: task.status, cursors: { ...this.ui.cursors, [task.status]: { id: task.id, index: 0 } } });
  }

  private moveCards(by: number): void {
    this.moveTo(this.activeColumn().index + by);
  }

  /** The cursor goes by position; the model finds the card there (beyond the cards on screen too). */
  private moveTo(index: number): void {
    const active = this.activeColumn();
    const target = clamp(index, 0, Math.max(0, active.count - 1));
    this.set({ cursors: { ...this.ui.cursors, [active.status]: { id: null, index: target } } });
  }
}

/** How far a command moves in a list (the cards of a column, the findings, the drawer's lines), or to an end; null: it does not. */
function listStep(id: CommandId | undefined): number | 'first' | 'last' | null {
  switch (id) {
    case 'card-up':
      return -1;
    case 'card-down':
      return 1;
    case 'page-up':
      return -10;
    case 'page-down':
      return 10;
    case 'first':
    case 'last':
      return id;
    default:
      return null;
  }
}

/** The commands `:` can give an answer to, and the prompt they would have asked it in. */
const PROMPTED: Partial<Record<CommandId, PromptPurpose>> = {
  schedule: 'schedule',
  block: 'block',
  assign: 'assign',
  'request-changes': 'request-changes',
  comment: 'comment',
  link: 'link',
  unlink: 'unlink',
};

/**
 * Whether a name may be assigned: nobody (empty, `none`), a profile the config names, or anything
 * when the config names none (as `kanban create --assignee` without a config: the board may be
 * dispatched from another machine's config).
 */
function isKnownProfile(name: string, profiles: readonly string[]): boolean {
  return name === '' || name === 'none' || profiles.length === 0 || profiles.includes(name);
}

function sameCursors(a: Partial<Record<Status, Cursor>>, b: Partial<Record<Status, Cursor>>): boolean {
  const keys = Object.keys(a) as Status[];
  return keys.length === Object.keys(b).length && keys.every((k) => a[k]?.id === b[k]?.id && a[k]?.index === b[k]?.index);
}
