import { render } from 'ink-testing-library';
import { thisHost } from '../../src/host.js';
import { diagnoseBoard } from '../../src/diagnostics/board.js';
import { parseConfig } from '../../src/config.js';
import { DispatcherLoop } from '../../src/dispatcher/loop.js';
import { Killer } from '../../src/dispatcher/processes.js';
import { tickContext } from '../../src/dispatcher/tick.js';
import { resolveSettings } from '../../src/settings.js';
import type { Store } from '../../src/store/db.js';
import type { BoardStore } from '../../src/port/board.js';
import { SqliteBoard } from '../../src/store/sqlite-board.js';
import { App } from '../../src/ui/App.js';
import { BoardModel } from '../../src/ui/model.js';
import { firstPerColumn } from '../../src/ui/geometry.js';
import type { Keymap } from '../../src/ui/commands.js';
import { DispatcherHandle } from '../../src/ui/dispatcher.js';
import { afterEach } from 'vitest';
import { createTask } from '../../src/store/tasks.js';
import { manualClock, testStore, type ManualClock } from '../helpers/board.js';

export const config = parseConfig('profiles:\n  coder:\n    command: [agent]\n', 'test.yaml');
export const settings = resolveSettings(config, { KANBAN_CLAIM_TTL_SECONDS: '60', KANBAN_HEARTBEAT_MAX_STALE_SECONDS: '120' });
export { KEY } from '../helpers/keys.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the frame has stopped changing for a while (at most 3 s): a key's effects can take
 * more than one render (the drawer loads the task, then draws it), and on a busy machine a fixed
 * pause is not enough.
 */
async function settle(frame: () => string | undefined): Promise<void> {
  const deadline = Date.now() + 3_000;
  let last = frame();
  let stableSince = Date.now();
  await sleep(20);
  while (Date.now() < deadline) {
    const now = frame();
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    } else if (Date.now() - stableSince >= 50) {
      return;
    }
    await sleep(10);
  }
}

/**
 * The App on a real board file, in ink-testing-library, 100×30. The dispatcher is a real loop that
 * is never started (its pause and tick-now still work), or none at all.
 */
export async function mount(store: Store, clock: ManualClock, options: { dispatcher?: boolean; columns?: number; rows?: number; configProblem?: () => string | null; bell?: () => void; edit?: (text: string) => string | null; copy?: (text: string) => void; keymap?: Keymap; board?: (board: BoardStore) => BoardStore } = {}) {
  const loop = options.dispatcher === false ? null : new DispatcherLoop(async () => ({ at: clock.now(), dry_run: false, actions: [], errors: [], fault: null }), () => 1000, { onTick: () => {}, onError: () => {} });
  const handle = new DispatcherHandle(loop, () => settings, options.configProblem);
  // The screen reads and the keys act through the port, on the test's connection (`board` wraps it: slower reads, say).
  const board = (options.board ?? ((b) => b))(new SqliteBoard(store));
  const size = { columns: options.columns ?? 100, rows: options.rows ?? 30 };
  const model = await BoardModel.open(board, clock, {
    perColumn: firstPerColumn(size),
    diagnose: () => diagnoseBoard(board, config, settings, clock.now(), { host: thisHost().id, isRunProcess: () => false }),
  });
  const instance = render(
    <App
      model={model}
      boardName="test-board"
      dispatcher={handle}
      settings={() => settings}
      profiles={() => Object.keys(config.profiles)}
      {...(options.bell && { bell: options.bell })}
      {...(options.edit && { edit: options.edit })}
      {...(options.copy && { copy: options.copy })}
      {...(options.keymap && { keymap: options.keymap })}
      context={() => tickContext(board, config, clock, { settings, killer: new Killer(0), isRunProcess: () => false })}
      clock={clock}
      size={size}
      watch={false}
    />,
  );
  return {
    ...instance,
    loop,
    handle,
    frame: () => instance.lastFrame() ?? '',
    /** Waits until the frame stops changing. */
    settle: () => settle(instance.lastFrame),
    async press(...keys: string[]) {
      for (const key of keys) {
        instance.stdin.write(key);
        await settle(instance.lastFrame);
      }
    },
    /** The text of the selected card (the lines marked ▌). */
    selected: () => (instance.lastFrame() ?? '').split('\n').filter((l) => l.includes('▌')).map((l) => l.slice(l.indexOf('▌') + 1).trim().split('  ')[0]),
  };
}

type MountOptions = Parameters<typeof mount>[2];
const mounted: Array<{ unmount: () => void }> = [];
afterEach(() => mounted.splice(0).forEach((m) => m.unmount()));

/**
 * A fresh board on a manual clock: `make` creates a task a second after the last one (so the order
 * is fixed), `open` mounts the App on it, unmounted after the test.
 */
export function setup(options?: MountOptions) {
  const clock = manualClock();
  const store = testStore(clock);
  const make = (title: string, extra: Partial<Parameters<typeof createTask>[1]> = {}) => {
    clock.advance(1000);
    return createTask(store, { title, ...extra }).task.id;
  };
  const open = async () => {
    const app = await mount(store, clock, options);
    mounted.push(app);
    return app;
  };
  return { clock, store, make, open };
}
