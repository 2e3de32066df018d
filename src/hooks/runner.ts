import { errorMessage } from '../errors.js';
import { runHookProcess, type HookExit, type HookSpawn } from './process.js';

/** One hook to run for one event. */
export interface HookJob {
  /** The hook's name in reports: its program's base name. */
  name: string;
  taskId: string;
  eventId: number;
  kind: string;
  spawn: HookSpawn;
}

export interface HookFailure {
  job: HookJob;
  error: string;
  /** The last line the hook wrote to stderr (control characters removed, cut short). */
  stderr: string | null;
}

export interface HookRunnerOptions {
  /** Hooks running at once (4). */
  concurrency?: number;
  /** Hooks waiting for a turn (100); one more is dropped. */
  queueLimit?: number;
  run?: (spec: HookSpawn) => Promise<HookExit>;
}

/**
 * Runs hooks in the background for a long-running dispatcher: a few at once, the rest waiting in a
 * bounded queue. Nothing here is awaited by a tick; the failures wait until the next tick takes them
 * (to report them and note them on their tasks). Each job runs once: a failure is never retried.
 */
export class HookRunner {
  private readonly queue: HookJob[] = [];
  private readonly running = new Set<Promise<void>>();
  private failures: HookFailure[] = [];
  private stopped = false;
  private readonly concurrency: number;
  private readonly queueLimit: number;
  private readonly run: (spec: HookSpawn) => Promise<HookExit>;

  constructor(options: HookRunnerOptions = {}) {
    this.concurrency = options.concurrency ?? 4;
    this.queueLimit = options.queueLimit ?? 100;
    this.run = options.run ?? runHookProcess;
  }

  /** Queues a job; false when it was dropped (the queue is full, or the runner stopped). */
  submit(job: HookJob): boolean {
    if (this.stopped || this.queue.length >= this.queueLimit) return false;
    this.queue.push(job);
    this.startWaiting();
    return true;
  }

  /** The failures since the last call. */
  takeFailures(): HookFailure[] {
    return this.failures.splice(0);
  }

  /** Hooks running now and waiting. */
  get pending(): number {
    return this.running.size + this.queue.length;
  }

  /**
   * Takes no more jobs, drops those still waiting (returns how many) and waits for those running:
   * at most their timeout, after which they are killed.
   */
  async stop(): Promise<number> {
    this.stopped = true;
    const dropped = this.queue.splice(0).length;
    while (this.running.size > 0) await Promise.all(this.running);
    return dropped;
  }

  private startWaiting(): void {
    while (this.running.size < this.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      const done: Promise<void> = this.run(job.spawn)
        .then(
          (exit) => {
            if (!exit.ok) this.failures.push({ job, error: exit.error, stderr: exit.stderr });
          },
          (err: unknown) => {
            this.failures.push({ job, error: errorMessage(err), stderr: null });
          },
        )
        .finally(() => {
          this.running.delete(done);
          this.startWaiting();
        });
      this.running.add(done);
    }
  }
}

/** `hook "notify-send" for t_1a2b3c4d gave_up: exit 3 (its last stderr line)`. */
export function describeFailure(failure: HookFailure): string {
  const { job } = failure;
  return `hook "${job.name}" for ${job.taskId} ${job.kind}: ${failure.error}${failure.stderr ? ` (${failure.stderr})` : ''}`;
}
