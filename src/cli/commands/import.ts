import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { InvalidInput, errorMessage } from '../../errors.js';
import { cleanLine } from '../../sanitize.js';
import { globalOptions, withBoard, type GlobalOptions } from '../context.js';
import { parseImport, type ImportLine } from '../import-lines.js';
import { formatTaskLine, writeJson, writeLine } from '../output.js';
import { configuredProfiles, unknownProfile } from '../profiles.js';
import type { BatchItem } from '../../port/types.js';

export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description('create tasks from JSON lines (one task per line, create\'s fields in snake_case), all in one transaction')
    .argument('<file>', 'a file of JSON lines, or - for stdin')
    .option('--dry-run', 'check every line and say what would be created, change nothing')
    .option('--force', 'assign profiles the config does not name')
    .addHelpText(
      'after',
      `
Each line: {"title": "…", "body", "assignee", "priority", "status", "triage", "max_retries",
"max_runtime", "workspace", "idempotency_key", "parents": ["t_1a2b3c4d", 3]} (all but title optional).
A number in parents is the line number (from 1, as errors count them) of an earlier task in the file.
Blank lines and lines starting with # are skipped. Any bad line: exit 2, "line N: …", nothing created.`,
    )
    .action(async (file: string, opts: { dryRun?: boolean; force?: boolean }, command: Command) => {
      const lines = parseImport(readInput(file));
      const options = globalOptions(command);
      if (!opts.force) await checkAssignees(options, lines);
      const index = new Map(lines.map((l, i) => [l.line, i]));
      const items: BatchItem[] = lines.map((l) => ({ input: l.input, parentItems: l.parentLines.map((line) => index.get(line)!), label: `line ${l.line}` }));
      const dryRun = opts.dryRun ?? false;
      const results = await withBoard(options, (board) => board.transitions.createMany(items, { dryRun }), dryRun ? 'read' : 'write');
      if (options.json) return writeJson(results.map((r) => r.task));
      if (results.length === 0) return writeLine('nothing to import');
      results.forEach(({ task, created }, i) => {
        if (!created) writeLine(formatTaskLine(task, 'exists'));
        else if (dryRun) writeLine(`would create line ${lines[i]!.line}  ${task.status}  ${cleanLine(task.title)}`);
        else writeLine(formatTaskLine(task, 'created'));
      });
    });
}

/** Every line's assignee must name a profile of the config (when there is one), as for create. */
async function checkAssignees(options: GlobalOptions, lines: readonly ImportLine[]): Promise<void> {
  if (lines.every((l) => l.input.assignee == null)) return;
  const profiles = await configuredProfiles(options);
  for (const { line, input } of lines) {
    const problem = unknownProfile(profiles, input.assignee);
    if (problem !== null) throw new InvalidInput(`line ${line}: ${problem}`);
  }
}

function readInput(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new InvalidInput(`cannot read ${file === '-' ? 'stdin' : file}: ${errorMessage(err)}`);
  }
}
