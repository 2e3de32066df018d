import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { commandVerdict, withRateLimitRules, type OutputRules } from '../agents/command.js';
import { ADAPTERS } from '../agents/index.js';
import { renderPrompt } from '../agents/prompt.js';
import type { Transcript, Verdict } from '../agents/types.js';
import { loadConfig, parseConfig, type Config, type Profile } from '../config.js';
import { errorMessage } from '../errors.js';
import { resolveSettings, type Settings } from '../settings.js';
import type { RunIdentity } from '../core/run.js';
import { shownLocation, type BoardRef } from '../port/board.js';
import type { TaskRow } from '../core/types.js';
import { kanbanBin } from './launch.js';
import { promptFilePath } from './runlog.js';
import { profileFor, resolveArgv } from './profiles.js';
import { prepareWorkspace } from './workspace.js';
import type { TaskContext } from '../port/types.js';

/** The dispatcher hands its supervisors the config it validated, so a bad edit of the file meanwhile cannot fail a run. */
export const RUN_CONFIG_VARIABLE = 'KANBAN_RUN_CONFIG';

/** Everything a supervisor needs to start and judge one run. */
export interface RunPlan {
  settings: Settings;
  profileName: string;
  argv: string[];
  stdin: string | null;
  /** The adapter's and the profile's variables: they may hold credentials, so they are never logged. */
  env: Record<string, string>;
  workspace: string;
  promptFile: string;
  onCleanExit: Profile['on_clean_exit'];
  onSuccess: Profile['on_success'];
  idleTimeoutSeconds: number | null;
  classify(transcript: Transcript, now: number): Verdict;
}

/**
 * The run cannot start because of the config or the machine (no such profile, an unreadable
 * template, a config that does not validate): not the task's fault, so not counted against it.
 */
export class ConfigFault extends Error {}

/** An agent that goes silent this long is stopped (`hung`); plain commands have no idle limit unless configured. */
export const AGENT_IDLE_TIMEOUT_SECONDS = 15 * 60;

/** The config this run works with: the dispatcher's (from the environment), else the file's. */
export function configForRun(configPath: string, env: NodeJS.ProcessEnv = process.env): Config {
  const handed = env[RUN_CONFIG_VARIABLE];
  try {
    return handed ? parseConfig(handed, `${configPath} (as the dispatcher read it)`) : loadConfig(configPath);
  } catch (err) {
    throw new ConfigFault(errorMessage(err));
  }
}

export function planRun(context: TaskContext, ref: BoardRef, configPath: string, identity: RunIdentity, task: TaskRow): RunPlan {
  const config = configForRun(configPath);
  const settings = resolveSettings(config);
  const chosen = profileFor(config, task.assignee);
  if ('error' in chosen) throw new ConfigFault(chosen.error);
  const { name, profile } = chosen;
  const template = profile.prompt_template === undefined ? undefined : readTemplate(resolve(dirname(configPath), profile.prompt_template));
  const workspace = prepareWorkspace(task, ref.dataDir); // the task's own setting: a failure here is counted
  const adapter = profile.agent ? ADAPTERS[profile.agent] : null;
  const kanban = kanbanShim(ref.dataDir);
  const prompt = renderPrompt(
    { context, runId: identity.runId, workspace, kanban, answerIsSummary: adapter !== null || profile.on_clean_exit !== 'violation' },
    template,
  );
  const promptFile = writePromptFile(ref.dataDir, identity, prompt);
  const invocation = adapter?.invoke({ prompt, promptFile, workspace, model: profile.model, args: profile.args, bin: profile.bin });
  const placeholders = { task_id: task.id, run_id: String(identity.runId), workspace, board: shownLocation(ref), prompt, prompt_file: promptFile };
  const argv = profile.command ? [...resolveArgv(profile.command, placeholders), ...(adapter ? [] : profile.args)] : invocation!.argv;
  const rules: OutputRules = { rateLimit: profile.rate_limit.map((source) => new RegExp(source, 'i')), exitCodes: profile.exit_codes };
  return {
    settings,
    profileName: name,
    argv,
    stdin: invocation?.stdin ?? null,
    env: { ...invocation?.env, ...profile.env, PATH: workerPath(kanban) },
    workspace,
    promptFile,
    onCleanExit: profile.on_clean_exit,
    onSuccess: profile.on_success,
    idleTimeoutSeconds: profile.idle_timeout ?? (adapter ? AGENT_IDLE_TIMEOUT_SECONDS : null),
    classify: adapter
      ? (transcript, now) => withRateLimitRules(rules, adapter.classify(transcript, now), transcript, now)
      : (transcript, now) => commandVerdict(rules, transcript, now),
  };
}

function readTemplate(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigFault(`cannot read prompt_template ${path}: ${errorMessage(err)}`);
  }
}

function writePromptFile(dataDir: string, identity: RunIdentity, prompt: string): string {
  const path = promptFilePath(dataDir, identity);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, prompt, { mode: 0o600 });
  return path;
}

/**
 * Removes a run's prompt file; never throws (a prompt file left behind on a read-only or failing disk
 * must not cost the run): returns why it could not, or null.
 */
export function removePromptFile(path: string): string | null {
  try {
    rmSync(path, { force: true });
    return null;
  } catch (err) {
    return errorMessage(err);
  }
}

/**
 * `<data dir>/bin/kanban`: a script that runs this installation's kanban with this node, so a
 * worker can call `kanban worker …` whatever its PATH (agents' shell tools often start a login
 * shell, which resets PATH). Its path is what the prompt names; its folder also goes first on PATH.
 */
function kanbanShim(dataDir: string): string {
  const shim = join(dataDir, 'bin', 'kanban');
  const script = `#!/bin/sh\nexec ${shellQuote(process.execPath)} ${shellQuote(kanbanBin())} "$@"\n`;
  if (existsSync(shim) && readFileSync(shim, 'utf8') === script) return shim;
  mkdirSync(dirname(shim), { recursive: true });
  const temporary = `${shim}.${process.pid}.tmp`;
  writeFileSync(temporary, script, { mode: 0o755 });
  renameSync(temporary, shim); // atomic: two supervisors at once both leave a whole script
  return shim;
}

/** One word for sh: these are installation paths (never task data), quoted all the same. */
function shellQuote(path: string): string {
  return `'${path.replaceAll("'", "'\\''")}'`;
}

function workerPath(shim: string): string {
  return [dirname(shim), dirname(process.execPath), process.env.PATH ?? ''].filter(Boolean).join(':');
}
