import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** What bench/board-worker.ts is told, and what it answers. */
export type ToWorker =
  | { type: 'open'; location: string; caps: boolean; batch: number }
  | { type: 'claim' }
  | { type: 'create'; title: string }
  | { type: 'close' }
  | { type: 'exit' };

export interface ClaimReport {
  type: 'done';
  claimed: number;
  /** Tasks another claimer had first: passed over by claimFirst. */
  lost: number;
  /** Claims refused at a cap (none expected: the bench's cap is far above the pool). */
  atCap: number;
  /** Anything else a claim or a read threw (none expected). */
  errors: string[];
  /** The longest this claimer went without a claim (from the start, between claims, and after its last until the pool was empty). */
  longestGapMs: number;
  ms: number;
}

export type FromWorker = { type: 'ready' } | ClaimReport | { type: 'created'; at: number } | { type: 'closed' } | { type: 'failed'; error: string };

const WORKER = fileURLToPath(new URL('./board-worker.ts', import.meta.url));

/**
 * A board worker: a process of its own (forked with this process's loader, tsx), kept for the whole
 * benchmark and told which board to open for each measurement. Its answers are queued, so one sent
 * before anybody waits for it is not lost.
 */
export class BoardWorker {
  private readonly child: ChildProcess;
  private readonly inbox: FromWorker[] = [];
  private waiting: ((message: FromWorker) => void) | null = null;
  private exited: string | null = null;

  constructor() {
    this.child = fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (message: FromWorker) => {
      const waiting = this.waiting;
      if (waiting) {
        this.waiting = null;
        waiting(message);
      } else this.inbox.push(message);
    });
    this.child.on('exit', (code, signal) => {
      this.exited = `board worker exited (${code ?? signal})`;
      this.waiting?.({ type: 'failed', error: this.exited });
      this.waiting = null;
    });
  }

  send(message: ToWorker): void {
    this.child.send(message);
  }

  /** The next answer, which must be of `type` (a worker's failure is thrown here). */
  async next<T extends FromWorker['type']>(type: T): Promise<Extract<FromWorker, { type: T }>> {
    const message =
      this.inbox.shift() ??
      (this.exited !== null
        ? ({ type: 'failed', error: this.exited } as const)
        : await new Promise<FromWorker>((resolve) => {
            this.waiting = resolve;
          }));
    if (message.type === 'failed') throw new Error(`board worker: ${message.error}`);
    if (message.type !== type) throw new Error(`board worker: expected ${type}, got ${message.type}`);
    return message as Extract<FromWorker, { type: T }>;
  }

  async request<T extends FromWorker['type']>(message: ToWorker, answer: T): Promise<Extract<FromWorker, { type: T }>> {
    this.send(message);
    return this.next(answer);
  }

  async exit(): Promise<void> {
    if (this.exited !== null) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.send({ type: 'exit' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
  }
}

export function startWorkers(count: number): BoardWorker[] {
  return Array.from({ length: count }, () => new BoardWorker());
}
