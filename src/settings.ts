import type { Config } from './config.js';
import { InvalidInput } from './errors.js';
import type { FailurePolicy } from './core/breaker.js';

type Env = Record<string, string | undefined>;

/** The durations and limits of CONTRACT.md, resolved: flag or config key > environment > default. */
export interface Settings {
  tickSeconds: number;
  claimTtlSeconds: number;
  heartbeatBridgeSeconds: number;
  heartbeatMaxStaleSeconds: number;
  crashGraceSeconds: number;
  rateLimitCooldownSeconds: number;
  rateLimitMaxCooldownSeconds: number;
  staleTimeoutSeconds: number;
  failureLimit: number;
  maxInProgress: number;
  /** Bytes of worker output one run may write to its task's log; the rest is dropped (one line says so). */
  logMaxBytes: number;
  /** Where each value came from, for events and diagnostics ("limit 2 from the default"). */
  sources: Record<SettingName, 'flag' | 'config' | 'env' | 'default'>;
}

export type SettingName = Exclude<keyof Settings, 'sources'>;

interface SettingSpec {
  env: string;
  config: keyof Config;
  fallback: number;
  /** What it means, in a few words (the starter config's comments). */
  about: string;
  integer?: boolean;
  positive?: boolean;
}

export const DEFAULT_FAILURE_LIMIT = 2;

const SPECS: Record<SettingName, SettingSpec> = {
  tickSeconds: { env: 'KANBAN_TICK_SECONDS', config: 'tick_seconds', fallback: 2, positive: true, about: 'dispatcher tick interval' },
  claimTtlSeconds: { env: 'KANBAN_CLAIM_TTL_SECONDS', config: 'claim_ttl_seconds', fallback: 900, positive: true, about: 'lease length' },
  heartbeatBridgeSeconds: { env: 'KANBAN_HEARTBEAT_BRIDGE_SECONDS', config: 'heartbeat_bridge_seconds', fallback: 60, about: 'least time between supervisor heartbeats' },
  heartbeatMaxStaleSeconds: { env: 'KANBAN_HEARTBEAT_MAX_STALE_SECONDS', config: 'heartbeat_max_stale_seconds', fallback: 3600, positive: true, about: 'a live worker silent this long is reclaimed anyway' },
  crashGraceSeconds: { env: 'KANBAN_CRASH_GRACE_SECONDS', config: 'crash_grace_seconds', fallback: 30, about: 'a new worker is not judged dead before this' },
  rateLimitCooldownSeconds: { env: 'KANBAN_RATE_LIMIT_COOLDOWN_SECONDS', config: 'rate_limit_cooldown_seconds', fallback: 300, about: 'no respawn this soon after a rate limit' },
  rateLimitMaxCooldownSeconds: { env: 'KANBAN_RATE_LIMIT_MAX_COOLDOWN_SECONDS', config: 'rate_limit_max_cooldown_seconds', fallback: 21_600, about: 'the longest wait a rate limit\'s reported reset time may ask for' },
  staleTimeoutSeconds: { env: 'KANBAN_STALE_TIMEOUT_SECONDS', config: 'stale_timeout_seconds', fallback: 14400, about: 'running this long with no heartbeat for max_stale: reclaimed as stale (0 = off)' },
  failureLimit: { env: 'KANBAN_FAILURE_LIMIT', config: 'failure_limit', fallback: DEFAULT_FAILURE_LIMIT, integer: true, positive: true, about: 'counted failures before the circuit breaker blocks the task' },
  maxInProgress: { env: 'KANBAN_MAX_IN_PROGRESS', config: 'max_in_progress', fallback: 4, integer: true, about: 'running tasks at once on the board' },
  logMaxBytes: { env: 'KANBAN_LOG_MAX_BYTES', config: 'log_max_bytes', fallback: 50 * 1024 * 1024, integer: true, positive: true, about: 'bytes of worker output one run may write to its task\'s log' },
};

/** Every setting: its config key, its environment variable, its default and what it means. */
export function settingSpecs(): Array<{ name: SettingName } & SettingSpec> {
  return (Object.entries(SPECS) as Array<[SettingName, SettingSpec]>).map(([name, spec]) => ({ name, ...spec }));
}

function fromEnv(name: string, raw: string, spec: SettingSpec): number {
  const value = Number(raw.trim());
  const wrong = !Number.isFinite(value) || value < 0 || (spec.positive && value === 0) || (spec.integer && !Number.isInteger(value));
  if (raw.trim() === '' || wrong) {
    const expected = spec.integer ? 'a whole number' : 'a number of seconds';
    throw new InvalidInput(`invalid ${name} '${raw}': expected ${expected}${spec.positive ? ' above 0' : ''}`);
  }
  return value;
}

export function resolveSettings(config: Partial<Config> = {}, env: Env = process.env, flags: Partial<Record<SettingName, number>> = {}): Settings {
  const settings = { sources: {} } as Settings;
  for (const [name, spec] of Object.entries(SPECS) as Array<[SettingName, SettingSpec]>) {
    const flag = flags[name];
    const configured = config[spec.config] as number | undefined;
    const raw = env[spec.env];
    if (flag !== undefined) [settings[name], settings.sources[name]] = [flag, 'flag'];
    else if (configured !== undefined) [settings[name], settings.sources[name]] = [configured, 'config'];
    else if (raw !== undefined && raw !== '') [settings[name], settings.sources[name]] = [fromEnv(spec.env, raw, spec), 'env'];
    else [settings[name], settings.sources[name]] = [spec.fallback, 'default'];
  }
  return settings;
}

/** The breaker's limit in force, and where it came from (for the `gave_up` event). */
export function failurePolicyOf(settings: Settings): FailurePolicy {
  return { limit: settings.failureLimit, limitSource: settings.sources.failureLimit };
}
