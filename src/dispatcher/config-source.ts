import { statSync } from 'node:fs';
import { loadConfig, type Config } from '../config.js';
import { errorMessage } from '../errors.js';
import { resolveSettings, type Settings } from '../settings.js';
import type { Elapsed } from '../elapsed.js';
import type { Killer } from './processes.js';
import type { TickOptions } from './tick.js';

type Flags = Parameters<typeof resolveSettings>[2];

/**
 * The config a long-running dispatcher works with, read again when the file changes. A change that
 * does not validate is reported once and the last good config stays in force.
 */
export class ConfigSource {
  config: Config;
  settings: Settings;
  private stamp: string;
  /** The file's version at the last look, taken once it is seen again unchanged. */
  private seen: string;

  /** Throws (exit 2) if the config is invalid at start. */
  constructor(
    readonly path: string,
    private readonly flags: Flags = {},
  ) {
    this.config = loadConfig(path);
    this.settings = resolveSettings(this.config, process.env, flags);
    this.stamp = stampOf(path);
    this.seen = this.stamp;
  }

  /** Why the file's current version is not in force (it does not validate), until a good version is read. */
  problem: string | null = null;

  /**
   * Re-reads a changed file once it has stayed as it is from one look to the next (one tick); returns
   * the error, the first time a bad version is seen. A version caught while it is being written (a
   * file rewritten in place is empty for a moment, and empty is a valid config: no profiles) is
   * never taken for the config.
   */
  refresh(): string | null {
    const stamp = stampOf(this.path);
    if (stamp === this.stamp) return null;
    if (stamp !== this.seen) {
      this.seen = stamp;
      return null;
    }
    this.stamp = stamp;
    try {
      const config = loadConfig(this.path);
      this.settings = resolveSettings(config, process.env, this.flags);
      this.config = config;
      this.problem = null;
      return null;
    } catch (err) {
      this.problem = `${errorMessage(err)} (keeping the previous config)`;
      return this.problem;
    }
  }

  /** A tick with the settings in force, whose supervisors read this same config file. */
  tickOptions(killer: Killer, elapsed?: Elapsed): TickOptions {
    return { settings: this.settings, killer, configPath: this.path, ...(elapsed && { elapsed }) };
  }
}

function stampOf(path: string): string {
  try {
    const stat = statSync(path);
    return `${stat.mtimeMs}:${stat.size}`;
  } catch {
    return 'missing';
  }
}
