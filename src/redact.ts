import type { Profile } from './config.js';

/**
 * Credentials are never shown: what a profile passes to its worker is printed with the values of
 * environment variables whose name says key, token, secret, password or auth replaced by `***`, and
 * so are argv values given to such an option (`--api-key X`, `--token=X`) and the user:password of a
 * URL (`https://user:pass@host`).
 */
const SECRET_NAME = /key|token|secret|password|auth/i;
const URL_CREDENTIALS = /(\/\/)[^/@\s]+@/g;
export const HIDDEN = '***';

function hideUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, `$1${HIDDEN}@`);
}

export function redactEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([name, value]) => [name, SECRET_NAME.test(name) ? HIDDEN : hideUrlCredentials(value)]));
}

export function redactArgv(argv: readonly string[]): string[] {
  return argv.map((arg, i) => {
    const assigned = /^(--?[^=\s]+)=/.exec(arg);
    if (assigned && SECRET_NAME.test(assigned[1]!)) return `${assigned[1]}=${HIDDEN}`;
    const previous = argv[i - 1];
    if (previous !== undefined && /^--?[^=\s]+$/.test(previous) && SECRET_NAME.test(previous)) return HIDDEN;
    return hideUrlCredentials(arg);
  });
}

export function redactProfile(profile: Profile): Profile {
  return {
    ...profile,
    ...(profile.command !== undefined && { command: redactArgv(profile.command) }),
    args: redactArgv(profile.args),
    env: redactEnv(profile.env),
  };
}
