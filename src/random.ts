import { closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * `bytes` random bytes from the system's generator, as lowercase hex: task ids, host ids, claim
 * locks, temporary names. Read from /dev/urandom where there is one; node:crypto (the fallback)
 * loads ~20 of Node's modules, which every short command (`kanban create`) would pay for at start
 * (issue 15's start-up goal).
 */
export function randomHex(bytes: number): string {
  const buffer = Buffer.alloc(bytes);
  if (!readUrandom(buffer)) cryptoModule().randomFillSync(buffer);
  return buffer.toString('hex');
}

function readUrandom(buffer: Buffer): boolean {
  let fd: number;
  try {
    fd = openSync('/dev/urandom', 'r');
  } catch {
    return false;
  }
  try {
    return readSync(fd, buffer, 0, buffer.length, null) === buffer.length;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

/** node:crypto, loaded on first use (see `randomHex`). */
export function cryptoModule(): typeof import('node:crypto') {
  return createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
}
