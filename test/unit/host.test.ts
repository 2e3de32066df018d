import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hostId } from '../../src/host.js';
import { tempDir } from '../helpers/board.js';
import { waitFor } from '../helpers/workers.js';

/** The host id boards shared between hosts will carry (issue 14): made once, kept, the same for everyone who asks. */
describe('hostId', () => {
  it('is made once, random, and kept in KANBAN_HOME/host-id', () => {
    const home = tempDir('kanban-host-');
    const first = hostId(home);
    expect(first).toMatch(/^h_[0-9a-f]{16}$/);
    expect(hostId(home)).toBe(first);
    expect(readFileSync(join(home, 'host-id'), 'utf8').trim()).toBe(first);
    expect(hostId(tempDir('kanban-host-'))).not.toBe(first); // another machine, another id
  });

  it('eight processes asking at once on a new machine all get the same id', async () => {
    const home = tempDir('kanban-host-race-');
    const module = fileURLToPath(new URL('../../src/host.ts', import.meta.url));
    const gate = tempDir('kanban-host-gate-');
    // Each process says it is ready, then waits for the gate to open: all of them look for the file before any has written it.
    const script = `import { hostId } from ${JSON.stringify(module)}; import { existsSync, writeFileSync } from 'node:fs';
      writeFileSync(${JSON.stringify(gate)} + '/ready-' + process.pid, '');
      while (!existsSync(${JSON.stringify(join(gate, 'go'))})) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
      process.stdout.write(hostId(${JSON.stringify(home)}));`;
    const running = Array.from({ length: 8 }, () =>
      new Promise<string>((resolve, reject) =>
        execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 60_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
      ),
    );
    await waitFor('eight processes at the gate', () => readdirSync(gate).filter((name) => name.startsWith('ready-')).length === 8, 60_000);
    writeFileSync(join(gate, 'go'), '');
    const ids = await Promise.all(running);
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toBe(readFileSync(join(home, 'host-id'), 'utf8').trim());
  }, 90_000);

  it('a host-id file that holds something else is refused, not replaced', () => {
    const home = tempDir('kanban-host-bad-');
    writeFileSync(join(home, 'host-id'), 'not an id\n');
    expect(() => hostId(home)).toThrow(/holds no host id: remove it/);
    expect(readFileSync(join(home, 'host-id'), 'utf8')).toBe('not an id\n');
  });
});
