import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { kanbanHome } from './location.js';
import { randomHex } from './random.js';
import { claimHost } from './core/run.js';

/**
 * This machine's host id for boards shared between hosts (issue 14): random, made once and kept in
 * `<KANBAN_HOME>/host-id`. Not the hostname, which two machines can share and a reinstall keeps.
 * Processes that ask at once on a new machine all get the same id: the first file linked into place
 * wins, and the others read it.
 */
const HOST_ID = /^h_[0-9a-f]{16}$/;

export function hostId(home = kanbanHome()): string {
  const path = join(home, 'host-id');
  const existing = readHostId(path);
  if (existing) return existing;
  mkdirSync(home, { recursive: true });
  const mine = `h_${randomHex(8)}`;
  const temporary = `${path}.${process.pid}.${randomHex(4)}.tmp`;
  writeFileSync(temporary, `${mine}\n`, { mode: 0o644 });
  try {
    linkSync(temporary, path); // fails if another process put its id there first
    return mine;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const theirs = readHostId(path);
    if (!theirs) throw new Error(`${path} holds no host id: remove it and kanban makes a new one`);
    return theirs;
  } finally {
    rmSync(temporary, { force: true });
  }
}

function readHostId(path: string): string | null {
  try {
    const text = readFileSync(path, 'utf8').trim();
    return HOST_ID.test(text) ? text : null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** This machine as a board sees it: its id, a name for people, and the id of its current boot. */
export interface ThisHost {
  id: string;
  name: string;
  /** Changes at every boot (Linux's boot_id): a host whose boot id changed lost every process it ran. */
  bootId: string;
}

let cached: ThisHost | null = null;

/**
 * This process's host: `KANBAN_HOST_ID` when set (several "hosts" on one machine, as the multi-host
 * chaos run makes), else `hostId()`; when KANBAN_HOME cannot hold the id, the hostname, as before
 * there were host ids. Read once per process.
 */
export function thisHost(env: NodeJS.ProcessEnv = process.env): ThisHost {
  if (cached) return cached;
  let id = env.KANBAN_HOST_ID?.trim() || null;
  if (id === null) {
    try {
      id = hostId();
    } catch {
      id = hostname();
    }
  }
  cached = { id, name: hostname(), bootId: env.KANBAN_BOOT_ID?.trim() || bootId() };
  return cached;
}

/** Said where the boot cannot be told: a reboot is then never detected (the leases still run out). */
export const UNKNOWN_BOOT = 'unknown';

/** Linux's id of the current boot (KANBAN_BOOT_ID stands in for it: a chaos "host" restarted). */
function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || UNKNOWN_BOOT;
  } catch {
    return UNKNOWN_BOOT;
  }
}

/** `<host id>:<pid>:<random>`: which host and process claimed, and unique per claim (core/run.ts `claimHost` reads the host back). */
export function newClaimLock(): string {
  return `${thisHost().id}:${process.pid}:${randomHex(6)}`;
}

/** The host a run was claimed on when it is not this one (its workspace and its full log are there), else null. */
export function otherHost(claimLock: string): string | null {
  const host = claimHost(claimLock);
  return host === thisHost().id ? null : host;
}
