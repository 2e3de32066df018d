import { CommanderError } from 'commander';
import { ExitCode, KanbanError, errorMessage } from '../errors.js';
import { cleanLine } from '../sanitize.js';
import { SomeFailed } from './each.js';
import { buildProgram } from './program.js';
import { watchStdio, writeErr } from './stdio.js';

/**
 * The one place that turns errors into exit codes and `kanban: …` lines (CONTRACT.md "Exit codes").
 * Returns the lines to print and the code.
 */
export function describeFailure(err: unknown): { code: number; lines: string[] } {
  if (err instanceof SomeFailed) return { code: err.failures[0]!.exitCode, lines: err.failures.map((f) => f.message) };
  if (err instanceof KanbanError) return { code: err.exitCode, lines: [err.message] };
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
      return { code: ExitCode.ok, lines: [] };
    }
    return { code: ExitCode.invalidInput, lines: [err.message.replace(/^error: /, '')] };
  }
  return { code: ExitCode.boardUnusable, lines: [`internal error: ${errorMessage(err)} (KANBAN_DEBUG=1 shows where)`] };
}

export async function run(argv: readonly string[]): Promise<number> {
  watchStdio({
    stdout: (stream) =>
      stream.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
        throw err;
      }),
    // A `kanban: …` line that cannot be written (stderr closed, its reader gone, its disk full) is lost;
    // the exit code still says what happened.
    stderr: (stream) => stream.on('error', () => {}),
  });
  const program = buildProgram();
  if (argv.length <= 2) {
    program.outputHelp();
    return ExitCode.ok;
  }
  try {
    await program.parseAsync([...argv]);
    return ExitCode.ok;
  } catch (err) {
    const { code, lines } = describeFailure(err);
    for (const line of lines) writeErr(`kanban: ${cleanLine(line)}\n`);
    if (process.env.KANBAN_DEBUG === '1' && err instanceof Error) writeErr(`${err.stack}\n`);
    return code;
  }
}
