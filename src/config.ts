import { readFileSync, statSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
// zod's mini build, with English messages: the same checks and words as the full one, a tenth of its start-up cost.
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { AGENT_NAMES } from './agents/types.js';
import { InvalidInput, errorMessage } from './errors.js';
import { HOOK_EVENT_KINDS } from './hooks/kinds.js';
import { parseDuration } from './time.js';
import { checkKeyOverrides } from './ui/commands.js';

z.config(en());

/**
 * config.yaml: profiles (what runs a task) and dispatcher settings. Every key is checked; an unknown
 * or invalid one is a clear error naming it (exit 2). A missing file means defaults.
 */

const seconds = z.number().check(z.nonnegative());
const positiveInt = z.number().check(z.int(), z.positive());

/** `90`, `90s`, `15m`, `2h`, `1d`, as a number of seconds. */
const duration = z.pipe(
  z.union([z.number(), z.string()]),
  z.transform((value: number | string, ctx) => {
    try {
      const seconds = typeof value === 'number' ? value : parseDuration(value);
      if (!(seconds >= 0) || !Number.isFinite(seconds)) throw new Error('a duration of 0 or more');
      return seconds;
    } catch (err) {
      ctx.issues.push({ code: 'custom', message: `invalid duration ${JSON.stringify(value)}: use a number of seconds or 90s, 15m, 2h, 1d`, input: value });
      void err;
      return z.NEVER;
    }
  }),
);
/** A duration above 0. */
const positiveDuration = duration.check(z.refine((value) => value > 0, 'a duration above 0'));

/** A case-insensitive regular expression, checked when the config is read. */
const pattern = z.string().check(
  z.minLength(1),
  z.refine((source) => {
    try {
      new RegExp(source, 'i');
      return true;
    } catch {
      return false;
    }
  }, 'not a valid regular expression'),
);

const ProfileSchema = z
  .strictObject({
    /** argv, never a shell string; or beside an agent, the wrapper that runs it. */
    command: z.optional(z.array(z.string()).check(z.minLength(1, 'needs at least the program to run'))),
    /** A built-in adapter: its command line, prompt delivery and output classifier. */
    agent: z.optional(z.enum(AGENT_NAMES)),
    model: z.optional(z.string().check(z.minLength(1))),
    bin: z.optional(z.string().check(z.minLength(1))),
    args: z._default(z.array(z.string()), []),
    /** Added to the worker's environment (an API base URL or key): never logged or shown. */
    env: z._default(z.record(z.string().check(z.regex(/^(?!KANBAN_)[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name (KANBAN_* are kanban\'s own)')), z.string()), {}),
    /** No output and no heartbeat this long: the worker is stopped and the run ends `hung` (counted). */
    idle_timeout: z.optional(duration),
    rate_limit: z._default(z.array(pattern), []),
    exit_codes: z._default(z.record(z.string().check(z.regex(/^\d{1,3}$/, 'an exit code')), z.enum(['completed', 'rate_limited', 'blocked', 'crashed'])), {}),
    prompt_template: z.optional(z.string().check(z.minLength(1))),
    on_success: z._default(z.enum(['complete', 'review']), 'complete'),
    on_clean_exit: z._default(z.enum(['violation', 'complete', 'review']), 'violation'),
    max_in_progress: z.optional(positiveInt),
  })
  .check(z.refine((profile) => profile.command !== undefined || profile.agent !== undefined, { message: 'needs a command or an agent', path: ['command'] }));

/** A program the dispatcher runs on chosen events, with the event and its task as JSON on stdin. */
const HookSchema = z.strictObject({
  on: z
    .array(z.enum(HOOK_EVENT_KINDS, { error: (issue) => `not an event kind hooks run on: ${JSON.stringify(issue.input)} (one of ${HOOK_EVENT_KINDS.join(' ')})` }))
    .check(z.minLength(1, 'needs at least one event kind')),
  /** argv, never a shell string; `{task_id} {kind} {title}` are replaced inside elements. */
  command: z
    .array(z.string(), { error: 'an argv list such as ["notify-send", "{title}"], never a shell string' })
    .check(
      z.minLength(1, 'needs at least the program to run'),
      z.refine((argv) => argv[0] !== '', { message: 'the program is empty', path: [0] }),
    ),
  /** Killed (its whole process group) after this long. */
  timeout: z._default(positiveDuration, 10),
});

/** When diagnostics call something stuck (hours and minutes, as people think of them). */
const DiagnosticsSchema = z.strictObject({
  stuck_blocked_hours: z._default(z.number().check(z.positive()), 24),
  block_cycle_window_hours: z._default(z.number().check(z.positive()), 24),
  block_cycle_count: z._default(positiveInt, 3),
  stranded_ready_minutes: z._default(z.number().check(z.positive()), 30),
});

/**
 * Retention a dispatcher runs on its own (`kanban gc` does it by hand): every `every`, the history of
 * tasks archived `older_than` ago goes, after done tasks completed `archive_done_after` ago (if set)
 * are archived. Without a `gc:` key, a dispatcher never removes anything.
 */
const GcSchema = z.strictObject({
  older_than: z._default(duration, 30 * 86_400),
  archive_done_after: z.optional(duration),
  every: z._default(positiveDuration, 3_600),
});

/** The board's keys: a command of the board's table → its keys (one, or a list), replacing its own. */
const KeysSchema = z
  .record(z.string(), z.union([z.pipe(z.string(), z.transform((key: string) => [key])), z.array(z.string()).check(z.minLength(1, 'needs at least one key'))]))
  .check(
    z.superRefine((keys, ctx) => {
      const problem = checkKeyOverrides(keys);
      if (problem) ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
    }),
  );

export const ConfigSchema = z.strictObject({
  profiles: z._default(z.record(z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a profile name of letters, digits, _ . and -')), ProfileSchema), {}),
  default_assignee: z.optional(z.string()),
  tick_seconds: z.optional(seconds.check(z.positive())),
  claim_ttl_seconds: z.optional(seconds.check(z.positive())),
  heartbeat_bridge_seconds: z.optional(seconds),
  heartbeat_max_stale_seconds: z.optional(seconds.check(z.positive())),
  crash_grace_seconds: z.optional(seconds),
  rate_limit_cooldown_seconds: z.optional(seconds),
  rate_limit_max_cooldown_seconds: z.optional(seconds),
  stale_timeout_seconds: z.optional(seconds),
  failure_limit: z.optional(positiveInt),
  max_in_progress: z.optional(z.number().check(z.int(), z.nonnegative())),
  /** Bytes of worker output one run may write to its task's log (50 MiB by default); the rest is dropped. */
  log_max_bytes: z.optional(positiveInt),
  diagnostics: z._default(DiagnosticsSchema, DiagnosticsSchema.parse({})),
  hooks: z._default(z.array(HookSchema), []),
  keys: z._default(KeysSchema, {}),
  gc: z.optional(GcSchema),
});

export type Config = z.infer<typeof ConfigSchema>;
export type Profile = z.infer<typeof ProfileSchema>;
export type DiagnosticsConfig = z.infer<typeof DiagnosticsSchema>;
export type Hook = z.infer<typeof HookSchema>;
export type GcConfig = z.infer<typeof GcSchema>;
/** What `kanban gc` does when neither its options nor a config's `gc:` say otherwise. */
export const GC_DEFAULTS: GcConfig = GcSchema.parse({});

function asJson(text: string): unknown {
  if (!text.trimStart().startsWith('{')) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined; // YAML's flow style, or broken: the YAML parser says which
  }
}

export function parseConfig(text: string, path: string): Config {
  let raw: unknown;
  try {
    // Warnings (an odd %YAML directive, say) would go to stderr as Node process warnings: errors alone matter.
    // JSON is YAML, and JSON.parse is linear: a config written by a program (or handed to a supervisor) takes that path.
    raw = (asJson(text) ?? parseYaml(text, { logLevel: 'error' })) ?? {};
  } catch (err) {
    throw new InvalidInput(`invalid config ${path}: not YAML (${errorMessage(err).split('\n')[0]})`);
  }
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const key = issue.path.join('.') || '(top level)';
    if (issue.code === 'unrecognized_keys') {
      throw new InvalidInput(`invalid config ${path}: unknown key ${issue.keys.map((k) => [...issue.path, k].join('.')).join(', ')}`);
    }
    // A bad record key (a profile name) carries its explanation one level down.
    const message = issue.code === 'invalid_key' ? `invalid name: ${issue.issues[0]?.message ?? issue.message}` : issue.message;
    throw new InvalidInput(`invalid config ${path}: ${key}: ${message}`);
  }
  const config = result.data;
  if (config.default_assignee !== undefined && !config.profiles[config.default_assignee]) {
    throw new InvalidInput(`invalid config ${path}: default_assignee: no profile named '${config.default_assignee}'`);
  }
  return config;
}

/**
 * The largest config read. A real one is a few KiB (prompt templates live in their own files);
 * parsing YAML costs more than linear time on hostile input (an 11 MB file took 94 s, 64 KiB up to
 * ~3 s), and a dispatcher parses the file again, once, each time it changes.
 */
export const CONFIG_MAX_BYTES = 64 * 1024;

export function loadConfig(path: string): Config {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > CONFIG_MAX_BYTES) throw new InvalidInput(`config ${path} is ${size} bytes: the limit is ${CONFIG_MAX_BYTES} (64 KiB); put long prompt templates in their own file`);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof InvalidInput) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return ConfigSchema.parse({});
    throw new InvalidInput(`cannot read config ${path}: ${errorMessage(err)}`);
  }
  if (Buffer.byteLength(text) > CONFIG_MAX_BYTES) throw new InvalidInput(`config ${path} grew past the limit of ${CONFIG_MAX_BYTES} bytes while it was read`);
  return parseConfig(text, path);
}
