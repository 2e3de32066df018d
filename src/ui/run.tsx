import { render } from 'ink';
import { systemClock } from '../clock.js';
import { diagnoseBoard } from '../diagnostics/board.js';
import { ConfigSource } from '../dispatcher/config-source.js';
import { DispatcherLoop } from '../dispatcher/loop.js';
import { Elapsed } from '../elapsed.js';
import { Killer } from '../dispatcher/processes.js';
import { stopHooks } from '../dispatcher/steps/hooks.js';
import { dispatchOnce, tickContext } from '../dispatcher/tick.js';
import { HookRunner } from '../hooks/runner.js';
import { GcSchedule } from '../gc.js';
import { cleanLine } from '../sanitize.js';
import { busyTimeoutMs } from '../env.js';
import { BoardUnusable, errorMessage, InvalidInput } from '../errors.js';
import { openBoard } from '../port/open.js';
import { App } from './App.js';
import { BoardModel } from './model.js';
import { firstPerColumn } from './geometry.js';
import { terminalSize } from './layout.js';
import { Keymap } from './commands.js';
import { DispatcherHandle } from './dispatcher.js';
import { copyToClipboard, editInEditor, FullScreen } from './terminal.js';
import { markRendered } from './timing.js';

export interface TuiOptions {
  /** Run the dispatcher loop in this process (the default; `--no-dispatch` turns it off). */
  dispatch: boolean;
  /** Clicks and the wheel go to the board (`--no-mouse` leaves them to the terminal). */
  mouse: boolean;
  /** Ring the terminal's bell when a task comes to need a person. */
  bell?: boolean;
  flags: ConstructorParameters<typeof ConfigSource>[1];
}

/**
 * `kanban tui`: the board, full screen, with the dispatcher running in the same process. Quitting,
 * SIGINT/SIGTERM/SIGHUP or a crash restore the terminal; workers keep running after it exits.
 */
export async function runTui(dbPath: string, configPath: string, options: TuiOptions): Promise<void> {
  if (!process.stdout.isTTY || !process.stdin.isTTY) throw new InvalidInput('kanban tui needs a terminal; kanban tui --no-ui runs the dispatcher headless');
  const source = new ConfigSource(configPath, options.flags);
  // The dispatcher, the keys and the screen share one board through the port: the screen reads again
  // after every tick and key, and hears other processes' changes through its watch.
  // The cheap check at open, so that the board is drawn at once whatever its size; the full one runs
  // on its own thread once it is (below), before the dispatcher's first tick.
  const board = await openBoard(dbPath, { busyTimeoutMs: busyTimeoutMs(), checkIntegrity: false });
  const killer = new Killer();
  const elapsed = Elapsed.forLife(); // one for the board's life: a step of the wall clock decides nothing
  const hooks = new HookRunner(); // its problems reach the status line as the next tick's actions
  const gc = new GcSchedule(); // retention on the config's gc: schedule, a slice per tick
  let handle: DispatcherHandle;
  const loop = options.dispatch
    ? new DispatcherLoop(
        () => {
          source.refresh();
          return dispatchOnce(board, source.config, systemClock, { ...source.tickOptions(killer, elapsed), hooks, gc });
        },
        () => source.settings.tickSeconds * 1000,
        {
          onTick: (result) => {
            handle.lastError = result.fault === null ? null : `${result.fault} (next try in ${(loop!.nextWaitMs() / 1000).toFixed(1)}s)`;
            handle.changed();
          },
          onError: (err) => {
            handle.lastError = errorMessage(err);
            handle.changed();
          },
        },
      )
    : null;
  handle = new DispatcherHandle(loop, () => source.settings, () => source.problem);

  const model = await BoardModel.open(board, systemClock, {
    perColumn: firstPerColumn(terminalSize(process.stdout)),
    diagnose: () => diagnoseBoard(board, source.config, source.settings, systemClock.now()),
  });
  const screen = new FullScreen(process.stdout, process.stdin, { mouse: options.mouse });
  screen.enter();
  const restore = () => screen.leave();
  const crash = (err: unknown) => {
    restore();
    process.stderr.write(`kanban: internal error in the board: ${errorMessage(err)}\n`);
    process.exit(4);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);

  const instance = render(
    <App
      model={model}
      boardName={board.ref.name}
      dispatcher={handle}
      settings={() => source.settings}
      profiles={() => Object.keys(source.config.profiles)}
      keymap={new Keymap(source.config.keys)}
      {...(options.bell && { bell: () => process.stdout.write('\u0007') })}
      edit={(text) => screen.lent(() => editInEditor(text))}
      copy={(text) => copyToClipboard(process.stdout, text)}
      // SIGSTOP, not SIGTSTP: the kernel drops SIGTSTP in an orphaned process group (no shell's job control).
      suspend={() => screen.lent(() => process.kill(0, 'SIGSTOP'))}
      context={() => tickContext(board, source.config, systemClock, source.tickOptions(killer, elapsed))}
    />,
    { exitOnCtrlC: false, patchConsole: false, onRender: markRendered },
  );
  const stop = () => instance.unmount();
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, stop);
  let refused: unknown = null;
  let dispatching: Promise<void> | undefined;
  const checked = board.verify().then(
    () => (dispatching = loop?.run()),
    (err: unknown) => {
      // A corrupt board (copied aside): the board is not used further. A check that could not run is said and dispatching goes on.
      if (err instanceof BoardUnusable) {
        refused = err;
        stop();
        return;
      }
      handle.lastError = `the integrity check could not run: ${errorMessage(err)}`;
      handle.changed();
      dispatching = loop?.run();
    },
  );
  void checked; // quitting does not wait for a check under way: its thread ends with the process
  try {
    await instance.waitUntilExit();
  } finally {
    loop?.stop();
    await dispatching;
    restore();
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(signal, stop);
    process.off('uncaughtException', crash);
    process.off('unhandledRejection', crash);
    // The terminal is the user's again: what the last hooks did wrong is said there.
    for (const line of await stopHooks(board, hooks)) process.stderr.write(`kanban: ${cleanLine(line)}\n`);
    await killer.settle();
    await board.close();
  }
  if (refused !== null) throw refused;
}
