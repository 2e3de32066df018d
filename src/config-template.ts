import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { ADAPTERS } from './agents/index.js';
import { AGENT_NAMES, type AgentName } from './agents/types.js';
import { ConfigSchema } from './config.js';
import { cleanLine } from './sanitize.js';
import { settingSpecs } from './settings.js';

/** An agent CLI found on PATH: the adapter's name and where its program is. */
export interface FoundAgent {
  agent: AgentName;
  path: string;
}

/** The agent CLIs on `PATH` (each adapter's own program name), in the adapters' order. Runs none of them. */
export function agentsOnPath(pathVariable: string | undefined): FoundAgent[] {
  const dirs = (pathVariable ?? '').split(delimiter).filter((dir) => dir !== '' && isAbsolute(dir));
  return AGENT_NAMES.flatMap((agent) => {
    const path = dirs.map((dir) => join(dir, ADAPTERS[agent].bin)).find(isExecutableFile);
    return path === undefined ? [] : [{ agent, path }];
  });
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The starter config `kanban config init` writes: one profile per agent CLI found (named after its
 * adapter), a plain-command profile and every other key commented out with its default, so that
 * the file documents itself. It passes the loader as it is.
 */
export function starterConfig(found: readonly FoundAgent[]): string {
  const lines = [
    '# kanban config, written by `kanban config init`.',
    '# `kanban config check` validates it, `kanban config show` prints what is in force.',
    '# Every key is checked: an unknown or invalid one is an error that names it.',
    '',
    '# A profile is what runs a task: a task\'s assignee names one.',
  ];
  if (found.length === 0) {
    lines.push(
      `# No agent CLI (${AGENT_NAMES.join(', ')}) was found on PATH. Add profiles under \`profiles:\``,
      '# (and remove its `{}`), like those commented out below.',
      'profiles: {}',
      ...agentProfile('claude', null).map((line) => `# ${line}`),
    );
  } else {
    lines.push('profiles:');
    for (const { agent, path } of found) lines.push(...agentProfile(agent, path));
  }
  lines.push(
    '  # A plain command instead of an agent: argv, never a shell string. Placeholders, replaced inside',
    '  # each element: {task_id} {run_id} {workspace} {board} {prompt} {prompt_file}',
    '  # shell:',
    '  #   command: ["my-agent", "--task", "{task_id}"]',
    '  #   on_clean_exit: violation     # exit 0 without `kanban worker complete`: a protocol violation (or: complete, review)',
    '  #   rate_limit: ["rate limit"]   # output (case-insensitive regular expressions) that means a rate limit',
    '  #   exit_codes: { "3": blocked } # exit codes that mean completed, rate_limited, blocked or crashed',
    '',
    '# Unassigned ready tasks go to this profile, and so start on their own:',
    `# default_assignee: ${found[0]?.agent ?? 'claude'}`,
    '',
    '# Dispatcher settings: a key here wins over its environment variable, which wins over the default.',
  );
  const specs = settingSpecs();
  const width = Math.max(...specs.map((s) => `${s.config}: ${s.fallback}`.length));
  for (const spec of specs) lines.push(`# ${`${spec.config}: ${spec.fallback}`.padEnd(width)}  # ${spec.env}: ${spec.about}`);
  lines.push('', '# When `kanban diagnostics` calls a task stuck:', '# diagnostics:');
  for (const [key, value] of Object.entries(ConfigSchema.parse({}).diagnostics)) lines.push(`#   ${key}: ${value}`);
  lines.push(
    '',
    '# Retention: a dispatcher removes the history of tasks archived this long ago (`kanban gc` by hand);',
    '# without this key it never removes anything.',
    '# gc:',
    '#   older_than: 30d',
    '#   archive_done_after: 14d     # optional: archive done tasks completed this long ago first',
    '#   every: 1h',
  );
  return `${lines.join('\n')}\n`;
}

/** A profile for a built-in agent adapter, its optional keys commented out. */
function agentProfile(agent: AgentName, path: string | null): string[] {
  return [
    path === null ? `  ${agent}:` : `${`  ${agent}:`.padEnd(32)}# found on PATH: ${cleanLine(path)}`,
    `    agent: ${agent}`,
    '    # model: ...                # the agent\'s model; bin: and args: (extra argv) are optional too',
    '    # env: { API_BASE_URL: "http://127.0.0.1:8787" }   # added to the worker\'s environment',
    '    # idle_timeout: 15m         # no output and no heartbeat this long: stopped, the run is `hung` (counted)',
    '    # on_success: complete      # or: review (finished work waits for a person)',
    '    # max_in_progress: 2        # at most this many of its tasks running at once',
  ];
}
