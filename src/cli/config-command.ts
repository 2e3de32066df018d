// Loaded on demand: `kanban config init|check|show` (they load the config's zod and yaml).
import { lstatSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Document, isCollection } from 'yaml';
import { loadConfig, parseConfig } from '../config.js';
import { agentsOnPath, starterConfig } from '../config-template.js';
import { AGENT_NAMES } from '../agents/types.js';
import { InvalidInput, Refused, errorMessage } from '../errors.js';
import { locateBoard, locateConfig } from '../location.js';
import { redactProfile } from '../redact.js';
import { cleanLine } from '../sanitize.js';
import { randomHex } from '../random.js';
import { resolveSettings, settingSpecs } from '../settings.js';
import type { GlobalOptions } from './context.js';
import { writeJson, writeLine } from './output.js';
import { writeOut } from './stdio.js';

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * `kanban config init [--force]`: a commented starter config at the config path, with one profile per
 * agent CLI on PATH. An existing file is refused (exit 1) unless `--force`, which replaces it whole
 * (written beside it, then renamed over it). What it writes has passed the loader first.
 */
export function configInit(options: GlobalOptions, force: boolean): void {
  const { path } = locateConfig(options);
  const found = agentsOnPath(process.env.PATH);
  const text = starterConfig(found);
  const config = parseConfig(text, path);
  const existed = exists(path);
  if (existed && !force) throw new Refused(`config ${path} already exists: \`kanban config check\` validates it, --force replaces it`);
  try {
    mkdirSync(dirname(path), { recursive: true });
    if (existed) replaceFile(path, text);
    else writeNew(path, text);
  } catch (err) {
    if (err instanceof Refused) throw err;
    throw new InvalidInput(`cannot write config ${path}: ${errorMessage(err)}`);
  }
  const profiles = Object.keys(config.profiles);
  if (options.json) return writeJson({ path, replaced: existed, profiles, found });
  const what = profiles.length > 0 ? `${plural(profiles.length, 'profile')} (${profiles.join(', ')})` : `no agent CLI (${AGENT_NAMES.join(', ')}) on PATH: add a profile, the comments show how`;
  writeLine(`${existed ? 'replaced' : 'wrote'} config ${cleanLine(path)}: ${what}`);
}

/** Creates `path` with `text`, never over a file that appeared since it was looked for. */
function writeNew(path: string, text: string): void {
  try {
    writeFileSync(path, text, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new Refused(`config ${path} already exists (it appeared meanwhile): --force replaces it`);
    throw err;
  }
}

/** Writes `text` beside `path`, then renames it over `path`: the file is never half written. */
function replaceFile(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.${randomHex(4)}.tmp`;
  try {
    writeFileSync(temporary, text, { flag: 'wx', mode: 0o600 });
    renameSync(temporary, path);
  } catch (err) {
    rmSync(temporary, { force: true });
    throw err;
  }
}

/**
 * `kanban config check`: the config as the dispatcher would read it (the one loader), and the
 * settings the environment adds: `config OK: PATH (N profiles: a, b)`, or the loader's error (exit 2).
 */
export function configCheck(options: GlobalOptions): void {
  const { path } = locateConfig(options);
  const present = exists(path);
  const config = loadConfig(path);
  resolveSettings(config);
  const profiles = Object.keys(config.profiles);
  if (options.json) return writeJson({ ok: true, path, exists: present, profiles });
  const list = `${plural(profiles.length, 'profile')}${profiles.length > 0 ? `: ${profiles.join(', ')}` : ''}`;
  writeLine(`config OK: ${cleanLine(path)} (${present ? '' : 'no such file: the defaults, '}${list})`);
}

/**
 * `kanban config show`: what is in force, defaults merged: where the config and the board are and
 * what chose them, each setting with its source (config, env or default), the profiles with their
 * credentials hidden, and the diagnostics thresholds. YAML, or JSON with --json.
 */
export function configShow(options: GlobalOptions): void {
  const configFile = locateConfig(options);
  const config = loadConfig(configFile.path);
  const settings = resolveSettings(config);
  const report = {
    config_file: { ...configFile, exists: exists(configFile.path) },
    board: locateBoard(options),
    settings: Object.fromEntries(settingSpecs().map((spec) => [spec.config, { value: settings[spec.name], from: settings.sources[spec.name], env: spec.env }])),
    default_assignee: config.default_assignee ?? null,
    profiles: Object.fromEntries(Object.entries(config.profiles).map(([name, profile]) => [name, redactProfile(profile)])),
    diagnostics: config.diagnostics,
  };
  if (options.json) return writeJson(report);
  // One line per setting and location: `tick_seconds: { value: 2, from: default, env: KANBAN_TICK_SECONDS }`.
  const doc = new Document(report);
  const oneLine = [['config_file'], ['board'], ...Object.keys(report.settings).map((key) => ['settings', key])];
  for (const path of oneLine) {
    const node = doc.getIn(path, true);
    if (isCollection(node)) node.flow = true;
  }
  writeOut(doc.toString({ lineWidth: 0 }));
}
