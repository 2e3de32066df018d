import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInput, NotFound, Refused } from '../../src/errors.js';
import type { BoardStore } from '../../src/port/board.js';
import type { RunIdentity } from '../../src/core/run.js';
import { STATUSES, type Status } from '../../src/core/types.js';
import { manualClock, type ManualClock } from '../helpers/board.js';
import type { BoardFactory, Harness } from './suite.js';

/**
 * Model-based test of the task state machine, through the board port: random sequences of
 * operations, each predicted by a small model written from the contract (not from the code). After
 * every step: the status the model expects, a refused operation changed nothing at all, and the
 * invariants of a board hold. Part of the conformance suite: every backend runs it.
 */

const SLOTS = 4;
const LIMIT = 2;
const FINISHED: readonly Status[] = ['done', 'archived'];

interface ModelTask {
  id: string;
  status: Status;
  failures: number;
  parents: Set<number>;
  /** Has had a run: the exit of its last run is then accepted even once the run has ended. */
  claimed: boolean;
  /** Promoted with --force past an unfinished parent since its last claim: the next claim runs it. */
  forced?: boolean;
}

interface Model {
  tasks: ModelTask[];
}

interface Real {
  board: BoardStore;
  harness: Harness;
  clock: ManualClock;
  /** The current run of each running task, and every identity ever issued (to try stale ones). */
  identities: Map<string, RunIdentity>;
  stale: RunIdentity[];
}

type Prediction = { legal: false } | { legal: true; changes: boolean };

const unfinishedParent = (model: Model, task: ModelTask) => [...task.parents].some((p) => !FINISHED.includes(model.tasks[p]!.status));
const readyOrTodo = (model: Model, task: ModelTask): Status => (unfinishedParent(model, task) ? 'todo' : 'ready');

/** After a task finishes, its todo children whose parents are all finished become ready. */
function releaseChildren(model: Model, index: number): void {
  model.tasks.forEach((child) => {
    if (child.parents.has(index) && child.status === 'todo' && !unfinishedParent(model, child)) child.status = 'ready';
  });
}

function reaches(model: Model, from: number, to: number): boolean {
  const seen = new Set<number>();
  const stack = [from];
  while (stack.length > 0) {
    const at = stack.pop()!;
    if (at === to) return true;
    if (seen.has(at)) continue;
    seen.add(at);
    model.tasks.forEach((t, i) => t.parents.has(at) && stack.push(i));
  }
  return false;
}

abstract class Step implements fc.AsyncCommand<Model, Real> {
  abstract predict(model: Model): Prediction;
  /** Applies a legal step to the model. */
  abstract apply(model: Model): void;
  /** Does it to the board. */
  abstract act(model: Model, real: Real): Promise<unknown>;
  abstract toString(): string;

  check(): boolean {
    return true; // refused steps are worth trying too
  }

  async run(model: Model, real: Real): Promise<void> {
    const prediction = this.predict(model);
    const before = (await real.harness.snapshot()) as Record<string, unknown[]>;
    let refused = false;
    try {
      await this.act(model, real);
    } catch (err) {
      if (!(err instanceof Refused || err instanceof NotFound || err instanceof InvalidInput)) throw err;
      refused = true;
    }
    expect(refused, `${this}: refused`).toBe(!prediction.legal);
    if (refused) {
      expect(await real.harness.snapshot(), `${this}: a refused step changed the board`).toEqual(before);
    } else {
      this.apply(model);
      if (prediction.legal && prediction.changes) {
        const after = (await real.harness.snapshot()) as Record<string, unknown[]>;
        expect(after.task_events!.length, `${this}: no event`).toBeGreaterThan(before.task_events!.length);
      }
    }
    real.clock.advance(1000);
    await checkAgainstModel(model, real);
  }
}

async function checkAgainstModel(model: Model, real: Real): Promise<void> {
  for (const task of model.tasks) {
    const row = await real.board.tasks.get(task.id);
    expect(STATUSES).toContain(row.status);
    expect(row.status, `${task.id} status`).toBe(task.status);
    expect(row.consecutive_failures, `${task.id} failures`).toBe(task.failures);
    expect(row.parents.sort()).toEqual([...task.parents].map((p) => model.tasks[p]!.id).sort());
    const openRuns = (await real.board.tasks.runs(task.id)).filter((run) => run.status === 'running').map((run) => run.id);
    if (row.status === 'running') {
      expect(row.claim_lock).not.toBeNull();
      expect(openRuns).toEqual([row.current_run_id]);
    } else {
      expect(row.claim_lock, `${task.id}: a claim outside running`).toBeNull();
      expect(openRuns, `${task.id}: an open run outside running`).toEqual([]);
    }
    if (row.status === 'done') expect(row.completed_at).not.toBeNull();
  }
  // The column counts (kept apart from the tasks on SQLite, by triggers) agree with the tasks.
  const counts = Object.fromEntries(STATUSES.map((status) => [status, model.tasks.filter((t) => t.status === status).length]));
  expect(await real.board.windows.counts(), 'column counts').toEqual(counts);
}

const task = (model: Model, slot: number) => model.tasks[slot % model.tasks.length]!;

class Create extends Step {
  constructor(readonly parents: number[], readonly as: 'default' | 'triage' | 'blocked') {
    super();
  }
  predict(): Prediction {
    return { legal: true, changes: true };
  }
  apply(model: Model) {
    const parents = new Set(this.parents.filter((p) => p < model.tasks.length));
    const fresh: ModelTask = { id: this.createdId!, status: 'ready', failures: 0, parents, claimed: false };
    fresh.status = this.as === 'triage' ? 'triage' : this.as === 'blocked' ? 'blocked' : readyOrTodo(model, fresh);
    model.tasks.push(fresh);
  }
  private createdId: string | undefined;
  async act(model: Model, real: Real) {
    const parents = [...new Set(this.parents.filter((p) => p < model.tasks.length))].map((p) => model.tasks[p]!.id);
    const extra = this.as === 'triage' ? { triage: true } : this.as === 'blocked' ? { status: 'blocked' as const } : {};
    this.createdId = (await real.board.transitions.create({ title: `task ${model.tasks.length}`, parents, ...extra })).task.id;
  }
  toString() {
    return `create(${this.as}, parents ${this.parents})`;
  }
}

/** A step on one existing task, its legality a function of the task's status (and the model). */
function taskStep(
  name: string,
  legal: (model: Model, t: ModelTask) => Prediction,
  apply: (model: Model, t: ModelTask, index: number) => void,
  act: (real: Real, t: ModelTask) => Promise<unknown>,
) {
  return class extends Step {
    constructor(readonly slot: number) {
      super();
    }
    predict(model: Model) {
      return legal(model, task(model, this.slot));
    }
    apply(model: Model) {
      apply(model, task(model, this.slot), this.slot % model.tasks.length);
    }
    act(model: Model, real: Real) {
      return act(real, task(model, this.slot));
    }
    toString() {
      return `${name}(${this.slot})`;
    }
  };
}

const when = (ok: boolean): Prediction => (ok ? { legal: true, changes: true } : { legal: false });

const Block = taskStep('block', (_m, t) => when(['triage', 'todo', 'ready', 'scheduled', 'review'].includes(t.status)), (_m, t) => (t.status = 'blocked'), (r, t) => r.board.transitions.block(t.id, 'because'));
const Unblock = taskStep(
  'unblock',
  (_m, t) => when(['blocked', 'scheduled'].includes(t.status)),
  (m, t) => {
    t.status = readyOrTodo(m, t);
    t.failures = 0;
  },
  (r, t) => r.board.transitions.unblock(t.id),
);
const Schedule = taskStep('schedule', (_m, t) => when(['triage', 'todo', 'ready', 'blocked', 'scheduled', 'review'].includes(t.status)), (_m, t) => (t.status = 'scheduled'), (r, t) => r.board.transitions.schedule(t.id, r.clock.now() + 3_600_000));
const Promote = taskStep(
  'promote',
  (m, t) => when(['triage', 'todo', 'blocked'].includes(t.status) && !unfinishedParent(m, t)),
  (_m, t) => {
    t.status = 'ready';
    t.failures = 0;
  },
  (r, t) => r.board.transitions.promote(t.id),
);
const ForcePromote = taskStep(
  'force-promote',
  (_m, t) => when(['triage', 'todo', 'blocked'].includes(t.status)),
  (m, t) => {
    t.forced = unfinishedParent(m, t);
    t.status = 'ready';
    t.failures = 0;
  },
  (r, t) => r.board.transitions.promote(t.id, { force: true }),
);
const Complete = taskStep(
  'complete',
  (_m, t) => when(!FINISHED.includes(t.status)),
  (m, t, i) => {
    t.status = 'done';
    t.failures = 0;
    releaseChildren(m, i);
  },
  (r, t) => r.board.transitions.complete(t.id),
);
const Archive = taskStep(
  'archive',
  (_m, t) => when(t.status !== 'running' && t.status !== 'archived'),
  (m, t, i) => {
    t.status = 'archived';
    releaseChildren(m, i);
  },
  (r, t) => r.board.transitions.archive(t.id),
);
const Claim = taskStep(
  'claim',
  (_m, t) => when(t.status === 'ready'),
  (m, t) => {
    t.status = unfinishedParent(m, t) && !t.forced ? 'todo' : 'running';
    t.claimed ||= t.status === 'running';
    if (t.status === 'running') t.forced = false;
  },
  async (r, t) => {
    const claim = await r.board.lease.claim(t.id, { profile: 'p', leaseMs: 60_000 });
    if (claim.claimed) {
      const old = r.identities.get(t.id);
      if (old) r.stale.push(old);
      r.identities.set(t.id, claim.identity);
    }
  },
);
const Heartbeat = taskStep('heartbeat', (_m, t) => when(t.status === 'running'), () => {}, (r, t) => r.board.lease.heartbeat(r.identities.get(t.id) ?? { taskId: t.id, runId: 999, claimLock: 'h:1:00' }));

/**
 * How a worker ended. Once its run has closed (reclaimed, or the worker reported), a late exit is
 * kept on that run alone: accepted, no change of state (the supervisor of a reclaimed worker).
 */
function exitStep(code: number | null) {
  return taskStep(
    `exit ${code ?? 'SIGKILL'}`,
    (_m, t) => (t.status === 'running' ? { legal: true, changes: true } : t.claimed ? { legal: true, changes: false } : { legal: false }),
    (m, t) => {
      if (t.status !== 'running') return;
      if (code === 75) {
        t.status = readyOrTodo(m, t);
        return;
      }
      t.failures += 1;
      t.status = t.failures >= LIMIT ? 'blocked' : readyOrTodo(m, t);
    },
    (r, t) =>
      r.board.lease.recordExit(r.identities.get(t.id) ?? { taskId: t.id, runId: 999, claimLock: 'h:1:00' }, {
        exitCode: code,
        signal: code === null ? 'SIGKILL' : null,
        onCleanExit: 'violation',
        failures: { limit: LIMIT, limitSource: 'test' },
        rateLimitCooldownMs: 1000,
      }),
  );
}
const Reclaim = taskStep(
  'reclaim',
  (_m, t) => when(t.status === 'running'),
  (m, t) => (t.status = readyOrTodo(m, t)),
  (r, t) => r.board.lease.release(r.identities.get(t.id) ?? { taskId: t.id, runId: 999, claimLock: 'h:1:00' }, { outcome: 'reclaimed', payload: {} }),
);

/** An earlier run of any task tries to write: always refused, never a change. */
class StaleWorker extends Step {
  constructor(readonly pick: number) {
    super();
  }
  private identity: RunIdentity | undefined;
  predict(): Prediction {
    return { legal: false };
  }
  apply() {}
  async act(_model: Model, real: Real) {
    this.identity = real.stale[this.pick % Math.max(1, real.stale.length)];
    if (!this.identity) throw new Refused('no stale identity yet');
    await real.board.lease.heartbeat(this.identity);
  }
  toString() {
    return `stale-heartbeat(${this.pick})`;
  }
}

class Link extends Step {
  constructor(
    readonly parent: number,
    readonly child: number,
  ) {
    super();
  }
  predict(model: Model): Prediction {
    const p = this.parent % model.tasks.length;
    const c = this.child % model.tasks.length;
    if (p === c || reaches(model, c, p)) return { legal: false };
    return { legal: true, changes: !model.tasks[c]!.parents.has(p) };
  }
  apply(model: Model) {
    const p = this.parent % model.tasks.length;
    const child = model.tasks[this.child % model.tasks.length]!;
    if (child.parents.has(p)) return;
    child.parents.add(p);
    if (child.status === 'ready' && !FINISHED.includes(model.tasks[p]!.status)) child.status = 'todo';
  }
  act(model: Model, real: Real) {
    return real.board.transitions.link(task(model, this.parent).id, task(model, this.child).id);
  }
  toString() {
    return `link(${this.parent} → ${this.child})`;
  }
}

class Unlink extends Step {
  constructor(
    readonly parent: number,
    readonly child: number,
  ) {
    super();
  }
  predict(model: Model): Prediction {
    return when(model.tasks[this.child % model.tasks.length]!.parents.has(this.parent % model.tasks.length));
  }
  apply(model: Model) {
    const child = model.tasks[this.child % model.tasks.length]!;
    child.parents.delete(this.parent % model.tasks.length);
    if (child.status === 'todo' && !unfinishedParent(model, child)) child.status = 'ready';
  }
  act(model: Model, real: Real) {
    return real.board.transitions.unlink(task(model, this.parent).id, task(model, this.child).id);
  }
  toString() {
    return `unlink(${this.parent} → ${this.child})`;
  }
}

// Mostly the first few tasks, so that a sequence works one task through claims, failures, the
// breaker and its release; claims and failing exits weigh more, as they are what trips it.
const slot = fc.oneof({ arbitrary: fc.nat({ max: SLOTS - 1 }), weight: 4 }, { arbitrary: fc.nat({ max: SLOTS * 3 }), weight: 1 });
const weighted = [Block, Unblock, Unblock, Schedule, Promote, ForcePromote, Complete, Archive, Claim, Claim, Claim, Heartbeat, Reclaim, exitStep(0), exitStep(1), exitStep(1), exitStep(75), exitStep(null), exitStep(null)];
const commands = [
  fc.record({ parents: fc.array(fc.nat({ max: SLOTS }), { maxLength: 2 }), as: fc.constantFrom<'default' | 'triage' | 'blocked'>('default', 'default', 'triage', 'blocked') }).map(({ parents, as }) => new Create(parents, as)),
  ...weighted.map((S) => slot.map((s) => new S(s))),
  fc.tuple(slot, slot).map(([p, c]) => new Link(p, c)),
  fc.tuple(slot, slot).map(([p, c]) => new Unlink(p, c)),
  fc.nat().map((n) => new StaleWorker(n)),
];

/**
 * The state machine, driven through `factory`'s port. `alone`: no second connection is asked for,
 * so a backend may hand a faster board (SQLite: one in memory).
 */
export function stateMachine(factory: BoardFactory, runs: { numRuns: number; maxCommands: number }): void {
  describe(`the task state machine on ${factory.name}`, () => {
    it('agrees with the model for random sequences; refused steps change nothing', async () => {
      await fc.assert(
        fc.asyncProperty(fc.commands(commands, { maxCommands: runs.maxCommands, size: 'max' }), async (steps) => {
          const clock = manualClock();
          const harness = await factory.open(clock, { alone: true });
          try {
            // Every run starts from a few tasks, so that steps on tasks mean something from the first.
            const model: Model = { tasks: [] };
            const real: Real = { board: harness.board, harness, clock, identities: new Map(), stale: [] };
            for (let i = 0; i < SLOTS; i++) await new Create([], 'default').run(model, real);
            await fc.asyncModelRun(() => ({ model, real }), steps);
          } finally {
            await harness.close();
          }
        }),
        { numRuns: runs.numRuns },
      );
    }, 240_000); // CPU only, but many steps: on a loaded machine well over the default 30 s
  });
}
