import { commandVerdict } from '../agents/command.js';
import type { WorkerExit } from '../port/types.js';
import { decideEnding, type Ending } from './ending.js';

/**
 * The ending of a plain command's exit, with nothing read from its output: what a run's exit decides
 * when its supervisor passed no `ending` of its own. Pure; every backend's recordExit applies it.
 * (Here, not in ending.ts: agents/command.ts reads ending.ts, and this reads command.ts.)
 */
export function endingOfExitAlone(exit: WorkerExit, now: number): Ending {
  const transcript = { exitCode: exit.exitCode, signal: exit.signal, stdout: '', stderr: '' };
  return decideEnding({
    exitCode: exit.exitCode,
    signal: exit.signal,
    stoppedFor: exit.timedOut ? 'timeout' : null,
    verdict: commandVerdict({ rateLimit: [], exitCodes: {} }, transcript, now),
    onCleanExit: exit.onCleanExit ?? 'violation',
    onSuccess: 'complete',
    profile: null,
    now,
    cooldown: { defaultMs: exit.rateLimitCooldownMs ?? 0, maxMs: exit.rateLimitCooldownMs ?? 0 },
  });
}
