import { describe, expect, it } from 'vitest';
import { formatReport, runChaos } from '../../chaos/harness.js';

/**
 * The chaos run in small (`npm run chaos` is the full one): 4 dispatchers under a cap, kills, freezes
 * and escaping workers; a full disk and a read-only window when running as root, clock steps when
 * libfaketime is installed (the report's notes say what was skipped). KANBAN_CHAOS_SEED replays a
 * failing seed.
 */
describe('chaos', () => {
  it('40 tasks, 4 dispatchers under a cap, kills, freezes, escaping workers, a full disk, a read-only window and clock steps: every promise holds once it settles', async () => {
    const seed = Number(process.env.KANBAN_CHAOS_SEED ?? Math.floor(Math.random() * 1_000_000));
    console.log(`chaos seed ${seed} (KANBAN_CHAOS_SEED=${seed} npm test replays it)`);
    const report = await runChaos({ tasks: 40, dispatchers: 4, seed, cap: 6, profileCap: 2, timeoutMs: 220_000 });
    const text = formatReport(report);
    console.log(text);
    expect(report.settled, text).toBe(true);
    const broken = Object.fromEntries(Object.entries(report.violations).filter(([, n]) => n !== 0));
    expect(broken, text).toEqual({});
    expect(report.kills.workers + report.kills.supervisors + report.kills.dispatchers, text).toBeGreaterThan(0);
  }, 300_000);
});
