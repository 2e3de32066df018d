// Loaded on demand: the commands that need the config (so zod and yaml): dispatch, tui --no-ui, reclaim, diagnostics.
import { ConfigSource } from '../dispatcher/config-source.js';
import type { TickResult } from '../dispatcher/context.js';
import { describeAction, describeTick } from '../dispatcher/describe.js';
import { DispatcherLoop } from '../dispatcher/loop.js';
import { Elapsed } from '../elapsed.js';
import { Killer } from '../dispatcher/processes.js';
import { diagnoseBoard } from '../diagnostics/board.js';
import { reclaimTask, staleTaskIds } from '../dispatcher/reclaim.js';
import { hookProblem, stopHooks } from '../dispatcher/steps/hooks.js';
import { dispatchOnce, tickContext } from '../dispatcher/tick.js';
import { HookRunner } from '../hooks/runner.js';
import { GcSchedule } from '../gc.js';
import { BoardUnusable, errorMessage } from '../errors.js';
import { resolveConfigPath } from '../location.js';
import { cleanLine } from '../sanitize.js';
import { systemClock } from '../clock.js';
import type { GlobalOptions } from './context.js';
import { shownLocation, type BoardStore } from '../port/board.js';
import { withBoard } from './context.js';
import { actOnEach } from './each.js';
import { formatTimestamp, steadyOutput, writeJson, writeLine } from './output.js';

type Flags = ConstructorParameters<typeof ConfigSource>[1];

/** `kanban dispatch [--dry-run]`: one tick, printed. */
export async function dispatchCommand(options: GlobalOptions, dryRun: boolean): Promise<void> {
  const source = new ConfigSource(resolveConfigPath(options));
  const killer = new Killer();
  await withBoard(
    options,
    async (board) => {
      const result = await dispatchOnce(board, source.config, systemClock, { ...source.tickOptions(killer), dryRun });
      if (options.json) writeJson(result);
      else if (result.actions.length === 0 && result.errors.length === 0) writeLine(dryRun ? 'would do nothing' : 'nothing to do');
      else {
        for (const action of result.actions) writeLine(`${dryRun ? 'would: ' : ''}${action.step}: ${describeAction(action)}`);
        for (const error of result.errors) writeLine(`${error.step} failed: ${cleanLine(error.error)}`);
      }
      // A tick the board or the machine kept from its work did not do what was asked: exit 4, not 0.
      if (result.fault !== null) throw new BoardUnusable(result.fault);
    },
    dryRun ? 'read' : 'check',
  );
  await killer.settle();
}

/**
 * `kanban tui --no-ui`: the dispatcher and reaper, headless, until SIGINT or SIGTERM. One line per
 * tick that did something. Stopping leaves the workers running; the next dispatcher adopts them.
 */
export async function headlessCommand(options: GlobalOptions, flags: Flags): Promise<void> {
  const source = new ConfigSource(resolveConfigPath(options), flags);
  await withBoard(options, (board) => dispatchHeadless(board, options, source), 'check'); // exit 4 if the board is unusable now
}

async function dispatchHeadless(board: BoardStore, options: GlobalOptions, source: ConfigSource): Promise<void> {
  const elapsed = Elapsed.forLife(); // one for the dispatcher's life: a step of the wall clock decides nothing
  const killer = new Killer();
  const hooks = new HookRunner();
  const gc = new GcSchedule(); // retention on the config's gc: schedule, a slice per tick
  const output = steadyOutput(); // a failed write to stdout or stderr is dropped and counted: dispatching goes on
  const say = (line: string) => output.err.write(`kanban: ${line}\n`);
  const loop = new DispatcherLoop(
    () => {
      const hadProblem = source.problem !== null;
      const configError = source.refresh();
      if (configError) say(configError);
      else if (hadProblem && source.problem === null) say(`config ${source.path} is valid again: now in force`);
      return dispatchOnce(board, source.config, systemClock, { ...source.tickOptions(killer, elapsed), hooks, gc });
    },
    () => source.settings.tickSeconds * 1000,
    {
      onTick: (result) => {
        printTick(result, options.json ?? false);
        reportFault(result);
        for (const action of result.actions) {
          const problem = hookProblem(action);
          if (problem !== null) say(cleanLine(problem));
        }
      },
      onError: (err) => say(`tick failed, trying again next tick: ${cleanLine(errorMessage(err))}`),
    },
  );
  // A fault of the board or the machine is said when it starts and when it changes, with the backoff, and once more when it is over.
  let lastFault: string | null = null;
  const reportFault = (result: TickResult) => {
    if (result.fault !== null && result.fault !== lastFault) say(`${result.fault}; backing off: next tick in ${(loop.nextWaitMs() / 1000).toFixed(1)}s`);
    else if (result.fault === null && lastFault !== null) say('the board is usable again: dispatching as usual');
    lastFault = result.fault;
  };
  const stop = () => loop.stop();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  say(`dispatching ${shownLocation(board.ref)} every ${source.settings.tickSeconds}s, at most ${source.settings.maxInProgress} running; SIGINT or SIGTERM stops it and leaves workers running`);
  try {
    await loop.run();
    for (const line of await stopHooks(board, hooks)) say(cleanLine(line));
    await killer.settle();
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

function printTick(result: TickResult, json: boolean): void {
  const line = describeTick(result);
  if (line === '') return;
  if (json) writeLine(JSON.stringify(result));
  else writeLine(`${formatTimestamp(result.at)}  ${line}`);
}

/**
 * `kanban reclaim ID…`: takes running tasks back (run closed `reclaimed`, not counted, worker
 * stopped). `--stale`: every task the dispatcher would take back now (expired lease not worth
 * extending, silent too long) and every task whose supervisor is gone.
 */
export async function reclaimCommand(options: GlobalOptions, ids: readonly string[], stale: boolean): Promise<void> {
  const source = new ConfigSource(resolveConfigPath(options));
  const killer = new Killer();
  await withBoard(options, async (board) => {
    const ctx = tickContext(board, source.config, systemClock, source.tickOptions(killer));
    const reclaim = (id: string) => reclaimTask(ctx, id);
    if (stale) await actOnEach(await staleTaskIds(ctx), 'reclaimed', options.json ?? false, reclaim, { alwaysReport: true });
    else await actOnEach(ids, 'reclaimed', options.json ?? false, reclaim);
  });
  await killer.settle();
}

/** `kanban diagnostics`: what needs a human, most severe first, each with the command that fixes it. */
/** A rule with more findings than this is printed as one group (its first finding and the others' ids). */
const GROUP_OVER = 3;
const IDS_SHOWN = 8;

export async function diagnosticsCommand(options: GlobalOptions, all = false): Promise<void> {
  const source = new ConfigSource(resolveConfigPath(options));
  await withBoard(
    options,
    async (board) => {
      const now = systemClock.now();
      const findings = await diagnoseBoard(board, source.config, source.settings, now);
      if (options.json) return writeJson({ generated_at: now, findings });
      if (findings.length === 0) return writeLine('nothing needs attention');
      const byRule = new Map<string, typeof findings>();
      for (const f of findings) {
        const group = byRule.get(f.rule);
        if (group) group.push(f);
        else byRule.set(f.rule, [f]);
      }
      for (const [rule, group] of byRule) {
        const shown = all || group.length <= GROUP_OVER ? group : group.slice(0, 1);
        for (const f of shown) {
          writeLine(`${f.severity.padEnd(8)} ${f.task_id}  ${f.rule}  ${cleanLine(f.title)}`);
          writeLine(`         ${cleanLine(f.reason)}`);
          writeLine(`         fix: ${f.fix.command}  (board key: ${f.fix.key})`);
        }
        const rest = group.slice(shown.length);
        if (rest.length === 0) continue;
        const ids = rest.slice(0, IDS_SHOWN).map((f) => f.task_id).join(' ');
        const more = rest.length > IDS_SHOWN ? ` and ${rest.length - IDS_SHOWN} more` : '';
        writeLine(`         …and ${rest.length} more ${rule}: ${ids}${more} (--all lists each)`);
      }
    },
    'read',
  );
}
