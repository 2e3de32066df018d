import type { Command } from 'commander';
import { diagnose } from '../../diagnostics/rules.js';
import { cleanLine } from '../../sanitize.js';
import { loadTaskFacts } from '../../store/diagnostics.js';
import { globalOptions, withStore } from '../context.js';
import { writeJson, writeLine } from '../output.js';

export function registerDiagnosticsCommand(program: Command): void {
  program
    .command('diagnostics')
    .description('what needs a human, most severe first, with the command that fixes each')
    .action((_opts: unknown, command: Command) => {
      const options = globalOptions(command);
      withStore(
        options,
        (store) => {
          const now = store.clock.now();
          const findings = diagnose(loadTaskFacts(store), now);
          if (options.json) {
            writeJson({ generated_at: now, findings });
            return;
          }
          if (findings.length === 0) {
            writeLine('nothing needs attention');
            return;
          }
          for (const f of findings) {
            writeLine(`${f.severity.padEnd(8)} ${f.task_id}  ${f.rule}  ${cleanLine(f.title)}`);
            writeLine(`         ${cleanLine(f.reason)}`);
            writeLine(`         fix: ${f.fix.command}  (board key: ${f.fix.key})`);
          }
        },
        'read',
      );
    });
}
