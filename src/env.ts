import { InvalidInput } from './errors.js';

type Env = Record<string, string | undefined>;

/** A non-negative number from the environment (seconds or milliseconds), or the default when unset. */
export function envNumber(name: string, fallback: number, env: Env = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw.trim());
  if (!Number.isFinite(value) || value < 0) {
    throw new InvalidInput(`invalid ${name} '${raw}': expected a non-negative number`);
  }
  return value;
}

export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

export function busyTimeoutMs(env: Env = process.env): number {
  return envNumber('KANBAN_BUSY_TIMEOUT_MS', DEFAULT_BUSY_TIMEOUT_MS, env);
}
